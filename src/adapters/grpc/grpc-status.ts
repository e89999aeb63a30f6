import { status } from '@grpc/grpc-js';
import type { ErrorKind } from '../../core/errors.js';

/** The one mapping from error kind to gRPC status (STYLE.md). */
export const GRPC_STATUS = {
  invalid_argument: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  payload_too_large: status.RESOURCE_EXHAUSTED,
  // gRPC has no content types to refuse; only a malformed message can reach this kind.
  unsupported_media_type: status.INVALID_ARGUMENT,
  permission_denied: status.PERMISSION_DENIED,
  unauthenticated: status.UNAUTHENTICATED,
  resource_exhausted: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  deadline_exceeded: status.DEADLINE_EXCEEDED,
  unsupported: status.UNIMPLEMENTED,
  internal: status.INTERNAL,
} as const satisfies Record<ErrorKind, status>;
