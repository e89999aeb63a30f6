import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { cachedFilePath } from './cached-file-path.js';
import { toDownloadError } from './download-failure.js';
import { toRequest } from './download-request.js';
import { fetchToFile } from './fetch-to-file.js';
import { normalizeSha256 } from './normalize-sha256.js';
import { redactUrl } from './redact-url.js';

export interface DownloadOptions {
  /** Root of the cache; files land in `sha256/<hex>/` or `url/<sha256 of the URL>/` below it. */
  readonly cacheDir: string;
  /** Expected sha256 (hex). When given, the file is content-addressed and verified before it is kept. */
  readonly sha256?: string | undefined;
  /** Expected size; a body of any other size is refused (and one that grows past it is cut off). */
  readonly expectedBytes?: number | undefined;
  /** Name of the cached file; defaults to the last segment of the URL path. */
  readonly fileName?: string | undefined;
  /** Draw a progress bar on stderr (only when stderr is a terminal). */
  readonly progress?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
}

// Temp files are written continuously while their download is alive, so an old one was left by a killed process.
const STALE_PART_MS = 60 * 60 * 1000;

/**
 * Returns the cached copy of `url`, fetching it first if needed. A file already in the cache is returned
 * without touching the network. Otherwise the body is streamed into a temp file beside its final place,
 * hashed while written, checked against `sha256`/`expectedBytes`, fsynced and renamed into place, so a
 * cached file is always complete. Called by resolveModelSource at start-up. Throws SkiffError
 * SKIFF_DOWNLOAD_FAILED (bad status, network error, abort, wrong size without a sha256, unwritable cache),
 * SKIFF_CHECKSUM_MISMATCH (content differs from `sha256`) or SKIFF_CONFIG_INVALID (bad URL or sha256);
 * after any failure nothing is left in the cache.
 */
export async function download(url: string, options: DownloadOptions): Promise<string> {
  const request = toRequest(url);
  const shownUrl = redactUrl(url);
  const finalPath = cachedFilePath(url, options);
  const sha256 = options.sha256 === undefined ? undefined : normalizeSha256(options.sha256);

  if (await isCached(finalPath, options.expectedBytes)) return finalPath;

  const dir = path.dirname(finalPath);
  const tempPath = path.join(
    dir,
    `.${path.basename(finalPath)}.${process.pid}.${randomBytes(6).toString('hex')}.part`,
  );
  try {
    await mkdir(dir, { recursive: true });
    await removeStaleParts(dir);
    await fetchToFile(request, tempPath, {
      shownUrl,
      label: path.basename(finalPath),
      sha256,
      expectedBytes: options.expectedBytes,
      progress: options.progress === true && process.stderr.isTTY,
      signal: options.signal,
    });
    await rename(tempPath, finalPath);
  } catch (error) {
    // Must not mask the original error: when the directory itself is the problem, so is this rm.
    await rm(tempPath, { force: true }).catch(() => undefined);
    throw toDownloadError(error, shownUrl);
  }
  await syncDirectory(dir);
  return finalPath;
}

async function isCached(filePath: string, expectedBytes: number | undefined): Promise<boolean> {
  try {
    const info = await stat(filePath);
    if (!info.isFile()) return false;
    if (expectedBytes === undefined || info.size === expectedBytes) return true;
    // Only a damaged cache (or one edited by hand) gets here: every file we place is complete.
    await rm(filePath, { force: true });
    return false;
  } catch {
    return false;
  }
}

async function removeStaleParts(dir: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(dir)) {
    if (!name.startsWith('.') || !name.endsWith('.part')) continue;
    const partPath = path.join(dir, name);
    try {
      if (now - (await stat(partPath)).mtimeMs > STALE_PART_MS) await rm(partPath, { force: true });
    } catch {
      // Another process finished or removed it meanwhile.
    }
  }
}

async function syncDirectory(dir: string): Promise<void> {
  // Makes the rename itself durable; some file systems cannot fsync a directory, which is fine.
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort only.
  }
}
