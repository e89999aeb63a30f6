/**
 * The neutral error kinds of the domain. Each adapter maps every kind to its own status once
 * (`satisfies Record<ErrorKind, ...>`), so adding a kind breaks the build until it is mapped.
 */
export type ErrorKind =
  | 'invalid_argument'
  | 'not_found'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'permission_denied'
  | 'unauthenticated'
  | 'resource_exhausted'
  | 'unavailable'
  | 'deadline_exceeded'
  | 'cancelled'
  | 'unsupported'
  | 'internal';

/** Every stable error code Skiff can report, with its kind. `docs/errors.md` lists each one (a test checks). */
export const ERROR_CODES = {
  SKIFF_BAD_REQUEST: 'invalid_argument',
  SKIFF_MISSING_IMAGE: 'invalid_argument',
  SKIFF_EMPTY_IMAGE: 'invalid_argument',
  SKIFF_UNDECODABLE_IMAGE: 'invalid_argument',
  SKIFF_IMAGE_TOO_LARGE: 'payload_too_large',
  SKIFF_BODY_TOO_LARGE: 'payload_too_large',
  SKIFF_TENSOR_TOO_LARGE: 'payload_too_large',
  SKIFF_RESPONSE_TOO_LARGE: 'payload_too_large',
  SKIFF_TOO_MANY_INSTANCES: 'payload_too_large',
  SKIFF_URL_TOO_LONG: 'payload_too_large',
  SKIFF_UNSUPPORTED_MEDIA_TYPE: 'unsupported_media_type',
  SKIFF_BAD_PARAMETER: 'invalid_argument',
  SKIFF_BAD_TENSOR: 'invalid_argument',
  SKIFF_ROUTE_NOT_FOUND: 'not_found',
  SKIFF_MODEL_NOT_FOUND: 'not_found',
  SKIFF_MODEL_NOT_READY: 'unavailable',
  SKIFF_SHUTTING_DOWN: 'unavailable',
  SKIFF_REPOSITORY_API_DISABLED: 'permission_denied',
  SKIFF_NO_REPOSITORY: 'unsupported',
  SKIFF_LOAD_OVERRIDE_UNSUPPORTED: 'unsupported',
  SKIFF_QUEUE_FULL: 'resource_exhausted',
  SKIFF_DECODE_BUSY: 'resource_exhausted',
  SKIFF_CONNECTION_BUSY: 'resource_exhausted',
  SKIFF_TIMEOUT: 'deadline_exceeded',
  SKIFF_CANCELLED: 'cancelled',
  SKIFF_UNAUTHENTICATED: 'unauthenticated',
  SKIFF_NOT_AN_IMAGE_MODEL: 'unsupported',
  SKIFF_INFERENCE_FAILED: 'internal',
  SKIFF_WORKER_CRASHED: 'internal',
  SKIFF_INTERNAL: 'internal',
  // Start-up errors: reported as one line on stderr, exit code 1.
  SKIFF_CONFIG_INVALID: 'invalid_argument',
  SKIFF_CONFIG_UNREADABLE: 'invalid_argument',
  SKIFF_MODEL_FILE_MISSING: 'not_found',
  SKIFF_MODEL_LOAD_FAILED: 'invalid_argument',
  SKIFF_MODEL_CONTRACT: 'invalid_argument',
  SKIFF_LABELS_INVALID: 'invalid_argument',
  SKIFF_DOWNLOAD_FAILED: 'unavailable',
  SKIFF_CHECKSUM_MISMATCH: 'invalid_argument',
  SKIFF_PORT_IN_USE: 'unavailable',
  SKIFF_LISTEN_FAILED: 'unavailable',
  // skiff build / skiff push.
  SKIFF_IMAGE_NOT_FOUND: 'not_found',
  SKIFF_IMAGE_INVALID: 'invalid_argument',
  SKIFF_REGISTRY_AUTH: 'invalid_argument',
  SKIFF_REGISTRY_FAILED: 'unavailable',
  SKIFF_ENGINE_FAILED: 'unavailable',
  // skiff deploy / status / logs / port-forward / delete.
  SKIFF_KUBECONFIG_INVALID: 'invalid_argument',
  SKIFF_CLUSTER_FAILED: 'unavailable',
  SKIFF_ROLLOUT_FAILED: 'unavailable',
  SKIFF_NOT_DEPLOYED: 'not_found',
  SKIFF_NO_READY_POD: 'unavailable',
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface SkiffErrorOptions {
  readonly cause?: unknown;
  /**
   * For internal kinds, whose message is logged but never sent: a sentence written by Skiff (no paths, no
   * runtime text) that clients may see instead of the bare "internal error".
   */
  readonly publicMessage?: string | undefined;
}

/**
 * A request's ordinary ends, not faults: cancelled, out of time, refused for load. Overload and bursts of
 * leaving clients make them by the thousand on the event loop, where capturing a stack trace was most of
 * their cost, and no log line shows their stack: they get none.
 */
const STACKLESS_KINDS: ReadonlySet<ErrorKind> = new Set([
  'cancelled',
  'deadline_exceeded',
  'resource_exhausted',
]);

export class SkiffError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly publicMessage: string | undefined;

  constructor(code: ErrorCode, message: string, options?: SkiffErrorOptions) {
    const limit = Error.stackTraceLimit;
    if (STACKLESS_KINDS.has(ERROR_CODES[code])) Error.stackTraceLimit = 0;
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    Error.stackTraceLimit = limit;
    this.name = 'SkiffError';
    this.code = code;
    this.kind = ERROR_CODES[code];
    this.publicMessage = options?.publicMessage;
  }
}

export function isSkiffError(value: unknown): value is SkiffError {
  return value instanceof SkiffError;
}

/** Turns anything thrown into a SkiffError; unknown causes become an internal error whose message is safe to show. */
export function toSkiffError(value: unknown): SkiffError {
  if (value instanceof SkiffError) return value;
  return new SkiffError('SKIFF_INTERNAL', 'internal error', { cause: value });
}
