import { ApiException } from '@kubernetes/client-node';
import { SkiffError } from '../../core/errors.js';

export function apiErrorMessage(error: unknown): string {
  if (error instanceof ApiException) {
    const body: unknown = error.body;
    if (typeof body === 'string') {
      try {
        const parsed = JSON.parse(body) as { message?: unknown };
        if (typeof parsed.message === 'string') return `${parsed.message} (HTTP ${error.code})`;
      } catch {
        // Not a Status object: fall through to the generic text.
      }
    }
    return `HTTP ${error.code}`;
  }
  return error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
}

export function clusterError(action: string, error: unknown): SkiffError {
  if (error instanceof SkiffError) return error;
  return new SkiffError('SKIFF_CLUSTER_FAILED', `cannot ${action}: ${apiErrorMessage(error)}`, {
    cause: error,
  });
}

/** Runs one API call; whatever it throws becomes SKIFF_CLUSTER_FAILED saying what could not be done. */
export async function call<T>(action: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw clusterError(action, error);
  }
}

/** As `call`, for a read where 404 means the object does not exist. */
export async function orUndefined<T>(action: string, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return undefined;
    throw clusterError(action, error);
  }
}
