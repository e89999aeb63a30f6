import type { ErrorCode, ErrorKind } from '../core/errors.js';
import { SkiffError, toSkiffError } from '../core/errors.js';

/** gRPC status codes (grpc/doc/statuscodes.md), by number so that the HTTP adapter need not load grpc-js. */
export const GRPC_CODE = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export type GrpcCode = (typeof GRPC_CODE)[keyof typeof GRPC_CODE];

export interface ErrorRow {
  /** HTTP status; a few codes override it (HTTP_STATUS_OF_CODE). */
  readonly http: number;
  readonly grpc: GrpcCode;
  /** 503s tell clients when to come back. */
  readonly retryAfter: boolean;
  /**
   * What the client reads: the error's own message, or (internal kinds) only the error's public sentence
   * and the request id, the rest being the server's business.
   */
  readonly client: 'message' | 'masked';
  /** How the server logs it: internal kinds with their stack, the others as one quiet line. */
  readonly log: 'debug' | 'error-with-stack';
}

/**
 * The one table of what each kind of error becomes, on every protocol (docs/errors.md has it as a table; a
 * test keeps the two equal). A new kind does not build until it has a row here.
 */
export const ERROR_TABLE = {
  invalid_argument: {
    http: 400,
    grpc: GRPC_CODE.INVALID_ARGUMENT,
    retryAfter: false,
    client: 'message',
    log: 'debug',
  },
  not_found: { http: 404, grpc: GRPC_CODE.NOT_FOUND, retryAfter: false, client: 'message', log: 'debug' },
  payload_too_large: {
    http: 413,
    grpc: GRPC_CODE.RESOURCE_EXHAUSTED,
    retryAfter: false,
    client: 'message',
    log: 'debug',
  },
  // gRPC has no content types to refuse; only a malformed message can reach this kind.
  unsupported_media_type: {
    http: 415,
    grpc: GRPC_CODE.INVALID_ARGUMENT,
    retryAfter: false,
    client: 'message',
    log: 'debug',
  },
  permission_denied: {
    http: 403,
    grpc: GRPC_CODE.PERMISSION_DENIED,
    retryAfter: false,
    client: 'message',
    log: 'debug',
  },
  unauthenticated: {
    http: 401,
    grpc: GRPC_CODE.UNAUTHENTICATED,
    retryAfter: false,
    client: 'message',
    log: 'debug',
  },
  resource_exhausted: {
    http: 503,
    grpc: GRPC_CODE.RESOURCE_EXHAUSTED,
    retryAfter: true,
    client: 'message',
    log: 'debug',
  },
  unavailable: { http: 503, grpc: GRPC_CODE.UNAVAILABLE, retryAfter: true, client: 'message', log: 'debug' },
  deadline_exceeded: {
    http: 504,
    grpc: GRPC_CODE.DEADLINE_EXCEEDED,
    retryAfter: false,
    client: 'message',
    log: 'debug',
  },
  // The client has gone: nobody reads the answer, but the access log shows nginx's 499.
  cancelled: { http: 499, grpc: GRPC_CODE.CANCELLED, retryAfter: false, client: 'message', log: 'debug' },
  unsupported: {
    http: 501,
    grpc: GRPC_CODE.UNIMPLEMENTED,
    retryAfter: false,
    client: 'message',
    log: 'debug',
  },
  internal: {
    http: 500,
    grpc: GRPC_CODE.INTERNAL,
    retryAfter: false,
    client: 'masked',
    log: 'error-with-stack',
  },
} as const satisfies Record<ErrorKind, ErrorRow>;

/** HTTP has a more precise status than the kind's for these codes. */
export const HTTP_STATUS_OF_CODE: Partial<Record<ErrorCode, number>> = {
  SKIFF_URL_TOO_LONG: 414,
};

/** Seconds a 503 asks the client to wait: long enough for a queue to drain, short enough to not lose it. */
export const RETRY_AFTER_SECONDS = 1;

/** An error as every adapter answers it: the row that applies and the message the client may read. */
export interface ClientError {
  readonly error: SkiffError;
  readonly row: ErrorRow;
  readonly httpStatus: number;
  readonly clientMessage: string;
}

export function toClientError(thrown: unknown, requestId: string): ClientError {
  const error = toSkiffError(thrown);
  const row: ErrorRow = ERROR_TABLE[error.kind];
  const clientMessage =
    row.client === 'message'
      ? error.message
      : `${error.publicMessage ?? 'internal error'} (request ${requestId}); see the server log`;
  return { error, row, httpStatus: HTTP_STATUS_OF_CODE[error.code] ?? row.http, clientMessage };
}

/**
 * The fields a log line about a failed request carries: the code, and what was thrown with its stack and
 * causes (for an unexpected exception, that exception itself, not the internal error made of it).
 */
export function errorLogFields(error: SkiffError, thrown: unknown = error): Record<string, unknown> {
  const origin = thrown instanceof Error ? thrown : error;
  const causes: string[] = [];
  for (let cause: unknown = origin.cause, depth = 0; cause !== undefined && depth < 5; depth++) {
    causes.push(cause instanceof Error ? (cause.stack ?? cause.message) : JSON.stringify(cause));
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  const cause = origin.cause instanceof Error ? origin.cause.message : undefined;
  return {
    code: error.code,
    error: origin.stack ?? origin.message,
    ...(cause === undefined ? {} : { cause }),
    ...(causes.length > 0 ? { causes } : {}),
  };
}
