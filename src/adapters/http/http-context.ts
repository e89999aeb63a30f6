import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../../core/request/request-context.js';
import { BACKGROUND } from '../../core/request/request-context.js';

const contexts = new WeakMap<FastifyRequest, RequestContext>();

/** Ties the request's context (deadline, cancellation) to it; done once, by the request hooks. */
export function attachContext(request: FastifyRequest, context: RequestContext): void {
  contexts.set(request, context);
}

/** The context a route passes to the core. A request the hooks did not see (none should) is never cancelled. */
export function contextOf(request: FastifyRequest): RequestContext {
  return contexts.get(request) ?? BACKGROUND;
}

/**
 * A JSON route's body as its bytes, for the decoders (decode/): the JSON parser hands bodies over unparsed so
 * that large ones are parsed off the event loop. A route with no JSON body gets an empty one, which the
 * decoders refuse as not JSON.
 */
export function jsonBytes(body: unknown): Uint8Array {
  if (body instanceof Uint8Array) return body;
  // A body another parser read (text/plain) is one JSON string, so it is not taken for the object it spells.
  return Buffer.from(JSON.stringify(typeof body === 'string' ? body : null));
}
