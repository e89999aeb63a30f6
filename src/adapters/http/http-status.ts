import type { ErrorKind } from '../../core/errors.js';

/** The one mapping from error kind to HTTP status (STYLE.md). */
export const HTTP_STATUS = {
  invalid_argument: 400,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  permission_denied: 403,
  unauthenticated: 401,
  resource_exhausted: 503,
  unavailable: 503,
  deadline_exceeded: 504,
  unsupported: 501,
  internal: 500,
} as const satisfies Record<ErrorKind, number>;
