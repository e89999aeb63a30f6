import { createHash } from 'node:crypto';
import path from 'node:path';
import type { DownloadOptions } from './download.js';
import { toRequest } from './download-request.js';
import { normalizeSha256 } from './normalize-sha256.js';

/**
 * Where `download` keeps (or will keep) the file for `url`, as an absolute path. Throws SkiffError
 * SKIFF_CONFIG_INVALID for a URL that is not http(s) or a malformed sha256.
 */
export function cachedFilePath(
  url: string,
  options: Pick<DownloadOptions, 'cacheDir' | 'sha256' | 'fileName'>,
): string {
  const { key } = toRequest(url);
  const fileName = safeFileName(options.fileName ?? lastPathSegment(key));
  const cacheDir = path.resolve(options.cacheDir);
  if (options.sha256 !== undefined) {
    return path.join(cacheDir, 'sha256', normalizeSha256(options.sha256), fileName);
  }
  return path.join(cacheDir, 'url', createHash('sha256').update(key.toString()).digest('hex'), fileName);
}

function lastPathSegment(url: URL): string {
  const segment = url.pathname.split('/').pop() ?? '';
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function safeFileName(name: string): string {
  // Leading dots are dropped so a cached file can never look like one of our hidden temp files.
  const cleaned = name
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/^\.+/, '')
    .slice(0, 200);
  return cleaned === '' ? 'download' : cleaned;
}
