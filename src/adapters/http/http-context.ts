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
