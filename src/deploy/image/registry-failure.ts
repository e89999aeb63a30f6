import { SkiffError } from '../../core/errors.js';

/** The error for an unexpected registry response: its status and the start of its body. */
export async function registryFailure(response: Response, what: string): Promise<SkiffError> {
  const text = (await response.text().catch(() => '')).slice(0, 300).trim();
  const code =
    response.status === 401 || response.status === 403 ? 'SKIFF_REGISTRY_AUTH' : 'SKIFF_REGISTRY_FAILED';
  return new SkiffError(code, `${what}: HTTP ${response.status}${text === '' ? '' : ` ${text}`}`);
}

export async function expectStatus(response: Response, ok: readonly number[], what: string): Promise<void> {
  if (ok.includes(response.status)) return;
  throw await registryFailure(response, what);
}

export function causeText(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
