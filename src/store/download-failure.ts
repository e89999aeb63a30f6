import { SkiffError } from '../core/errors.js';

/** A download that failed for a reason worth stating as is ("HTTP 404", "connection refused"). */
export class DownloadFailure extends Error {}

/** Turns what fetch() throws (a TypeError wrapping the socket error) into a few words. */
export function networkReason(error: unknown, signal: AbortSignal | undefined): string {
  if (signal?.aborted === true || (error instanceof Error && error.name === 'AbortError')) return 'aborted';
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  switch (errorCode(cause)) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ECONNRESET':
      return 'connection reset';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'timed out';
    case 'UND_ERR_SOCKET':
      return 'connection closed by the server';
    default:
      return cause instanceof Error ? cause.message : String(cause);
  }
}

function errorCode(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Node tries every address of a host and reports an AggregateError of the attempts.
  const errors = (error as { errors?: unknown }).errors;
  return Array.isArray(errors) ? errorCode(errors[0]) : undefined;
}

/** The one error `download` throws, whatever went wrong, with the URL redacted by the caller. */
export function toDownloadError(error: unknown, shownUrl: string): SkiffError {
  if (error instanceof SkiffError) return error;
  const hint =
    'Check the address and the network, or fetch the file yourself and pass its local path as the model.';
  if (error instanceof DownloadFailure) {
    return new SkiffError(
      'SKIFF_DOWNLOAD_FAILED',
      `could not download ${shownUrl}: ${error.message}. ${hint}`,
      {
        cause: error.cause ?? error,
      },
    );
  }
  // Anything else came from the file system: the cache directory is missing, full or not writable.
  const reason = error instanceof Error ? error.message : String(error);
  return new SkiffError('SKIFF_DOWNLOAD_FAILED', `could not save ${shownUrl} into the cache: ${reason}`, {
    cause: error,
  });
}
