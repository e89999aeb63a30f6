import { SkiffError } from '../core/errors.js';
import { redactUrl } from './redact-url.js';

export interface DownloadRequest {
  /** The URL that is fetched: fetch() refuses URLs that carry credentials, so they move to a header. */
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  /** Identity of the resource for the cache: the URL without credentials or fragment. */
  readonly key: URL;
}

export function toRequest(url: string): DownloadRequest {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new SkiffError('SKIFF_CONFIG_INVALID', `${redactUrl(url)} is not a valid URL`, { cause: error });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new SkiffError(
      'SKIFF_CONFIG_INVALID',
      `only http:// and https:// URLs can be downloaded, got ${parsed.protocol}`,
    );
  }
  // Content is never transfer-compressed, so Content-Length is the file size the progress bar shows.
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (parsed.username !== '' || parsed.password !== '') {
    const user = decodeURIComponent(parsed.username);
    const password = decodeURIComponent(parsed.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    parsed.username = '';
    parsed.password = '';
  }
  parsed.hash = '';
  return { url: parsed, headers, key: parsed };
}
