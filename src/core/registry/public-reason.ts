import type { ErrorCode } from '../errors.js';
import { SkiffError } from '../errors.js';

/**
 * Failures whose message is the runtime's own text (its build paths, C++ signatures) or a crash: clients
 * get a sentence written here instead, and the log the whole error.
 */
const OPAQUE_FAILURES: Partial<Record<ErrorCode, string>> = {
  SKIFF_MODEL_LOAD_FAILED:
    'it did not load: not a model ONNX Runtime can run, an operator it lacks, or a load that did not finish',
  SKIFF_INFERENCE_FAILED: 'its warm-up inference failed',
  SKIFF_WORKER_CRASHED: 'its inference worker crashed while loading',
};

/**
 * What clients are told about a model that failed to load: Skiff's own message with every file path cut to
 * its last part (which file, not where the server keeps it), or for runtime failures a fixed sentence; the
 * code, so the log entry can be found.
 */
export function publicFailureReason(error: unknown): string {
  if (error instanceof SkiffError && error.publicMessage !== undefined) return error.publicMessage;
  if (
    !(error instanceof SkiffError) ||
    error.kind === 'internal' ||
    OPAQUE_FAILURES[error.code] !== undefined
  ) {
    const code = error instanceof SkiffError ? error.code : 'SKIFF_INTERNAL';
    return `${OPAQUE_FAILURES[code] ?? 'it failed to load'} [${code}]; the server log has the details`;
  }
  return withoutPaths(error.message);
}

/** `/srv/models/dogs/labels.txt` becomes `labels.txt`; relative names and words are left as they are. */
export function withoutPaths(text: string): string {
  return text.replace(/(?<![\w.~-])(?:[A-Za-z]:)?[/\\](?:[^\s/\\'"`]+[/\\])*([^\s/\\'"`]+)/g, '$1');
}
