import { withNetworkRetry } from '../logic/network-retry.js';
import { serverTimingMs } from '../logic/prediction-bars.js';

const TOKEN_KEY = 'skiff.token';

/** An answer as the page uses it: the parsed body (or the text when not JSON) and both latencies. */
export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly text: string;
  readonly roundTripMs: number;
  readonly serverMs: number | undefined;
}

export function savedToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

/** Kept per tab (sessionStorage): it leaves with the tab and is never written to disk by the page. */
export function saveToken(token: string): void {
  if (token === '') sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/**
 * Calls the server (same origin only) with the saved bearer token, if any. A request the network dropped
 * is sent again a couple of times (withNetworkRetry); a network that stays down throws.
 */
export async function callApi(path: string, init: RequestInit = {}): Promise<ApiAnswer> {
  const headers = new Headers(init.headers);
  const token = savedToken();
  if (token !== '') headers.set('authorization', `Bearer ${token}`);
  let started = 0;
  // The round trip shown is the attempt that answered, not the retries before it.
  const response = await withNetworkRetry(() => {
    started = performance.now();
    return fetch(path, { ...init, headers, cache: 'no-store', credentials: 'omit' });
  });
  const text = await response.text();
  const roundTripMs = performance.now() - started;
  let body: unknown = text;
  if (/json/.test(response.headers.get('content-type') ?? '')) {
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      body = text;
    }
  }
  return {
    status: response.status,
    body,
    text,
    roundTripMs,
    serverMs: serverTimingMs(response.headers.get('server-timing')),
  };
}

/** Fetches bytes (a sample photo) with the token. */
export async function fetchBlob(path: string): Promise<Blob> {
  const token = savedToken();
  const response = await withNetworkRetry(() =>
    fetch(path, {
      headers: token === '' ? {} : { authorization: `Bearer ${token}` },
      credentials: 'omit',
    }),
  );
  if (!response.ok) throw new Error(`${path} answered ${response.status}`);
  return response.blob();
}

/** The message for an answer that is not 2xx, with a hint for the one a user can fix here. */
export function errorMessage(answer: ApiAnswer): string {
  const body = answer.body;
  const error =
    typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'string'
      ? body.error
      : `HTTP ${answer.status}`;
  return answer.status === 401 ? `${error}. Enter the token under "Access token" at the top.` : error;
}
