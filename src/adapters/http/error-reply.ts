import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../../core/logger.js';
import { SkiffError } from '../../core/errors.js';
import { RETRY_AFTER_SECONDS, errorLogFields, toClientError } from '../error-table.js';
import { PREDICT_USAGE } from './predict-route.js';

/**
 * The single place an HTTP request's failure becomes its answer: the status and message from the error
 * table, `Retry-After` on 503s, internal details logged (with the stack) and masked, and on `/predict` the
 * seed's `"success": false` too.
 */
export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  thrown: unknown,
  logger: Logger,
): void {
  const path = pathOf(request.url);
  const folded = fromFramework(thrown, request.headers['content-type']?.split(';')[0] ?? '', path);
  const { error, row, httpStatus, clientMessage } = toClientError(folded, request.id);
  if (row.log === 'error-with-stack')
    logger.error('request failed', { requestId: request.id, path, ...errorLogFields(error, thrown) });
  if (row.retryAfter) void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  if (error.kind === 'unauthenticated') void reply.header('www-authenticate', 'Bearer');
  // A client that left gets nothing: the socket is gone, and the access log records 499.
  if (reply.sent || reply.raw.destroyed || request.raw.socket.destroyed) return;
  void reply
    .code(httpStatus)
    .send(path === '/predict' ? { success: false, error: clientMessage } : { error: clientMessage });
}

export function pathOf(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? url : url.slice(0, at);
}

/** Fastify's own errors (bad JSON, body limits, content types, framing) become Skiff's codes here. */
function fromFramework(error: unknown, contentType: string, path: string): unknown {
  if (error instanceof SkiffError) return error;
  const fastifyError = error as Partial<FastifyError> & { code?: string };
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new SkiffError(
        'SKIFF_BODY_TOO_LARGE',
        'the request body is larger than the limit (--max-body-bytes)',
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new SkiffError(
        'SKIFF_UNSUPPORTED_MEDIA_TYPE',
        `content type "${contentType}" is not accepted by ${path}${
          path === '/predict' ? `; ${PREDICT_USAGE}` : '; send application/json'
        }`,
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new SkiffError('SKIFF_BAD_REQUEST', 'the request body is not valid JSON');
    case 'FST_ERR_BAD_URL':
      return new SkiffError('SKIFF_BAD_REQUEST', 'the URL path is not valid percent-encoded UTF-8');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new SkiffError('SKIFF_BAD_REQUEST', 'the Content-Length header does not match the body');
  }
  if (fastifyError.statusCode === 414)
    return new SkiffError(
      'SKIFF_URL_TOO_LONG',
      'the URL is longer than the server accepts (--max-url-bytes)',
    );
  if (
    typeof fastifyError.statusCode === 'number' &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    return new SkiffError('SKIFF_BAD_REQUEST', fastifyError.message ?? 'bad request');
  }
  return error;
}
