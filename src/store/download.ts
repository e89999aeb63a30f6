import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { SkiffError } from '../core/errors.js';

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

const SHA256_HEX = /^[0-9a-f]{64}$/;
const PROGRESS_INTERVAL_MS = 100;
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

/**
 * Lower-cases a sha256 given by a user (an optional `sha256:` prefix is accepted). Throws SkiffError
 * SKIFF_CONFIG_INVALID unless it is 64 hex digits, which also keeps it safe to use as a directory name.
 */
export function normalizeSha256(value: string): string {
  const hex = value
    .trim()
    .toLowerCase()
    .replace(/^sha256:/, '');
  if (!SHA256_HEX.test(hex)) {
    throw new SkiffError('SKIFF_CONFIG_INVALID', `sha256 must be 64 hexadecimal digits, got "${value}"`);
  }
  return hex;
}

/** A URL fit for messages and logs: credentials, query (tokens, signatures) and fragment removed. */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(malformed URL)';
  }
  parsed.username = '';
  parsed.password = '';
  parsed.search = '';
  parsed.hash = '';
  return parsed.toString();
}

interface DownloadRequest {
  /** The URL that is fetched: fetch() refuses URLs that carry credentials, so they move to a header. */
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  /** Identity of the resource for the cache: the URL without credentials or fragment. */
  readonly key: URL;
}

function toRequest(url: string): DownloadRequest {
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

/** A download that failed for a reason worth stating as is ("HTTP 404", "connection refused"). */
class DownloadFailure extends Error {}

interface FetchTarget {
  readonly shownUrl: string;
  readonly label: string;
  readonly sha256: string | undefined;
  readonly expectedBytes: number | undefined;
  readonly progress: boolean;
  readonly signal: AbortSignal | undefined;
}

async function fetchToFile(request: DownloadRequest, tempPath: string, target: FetchTarget): Promise<void> {
  let response: Response;
  try {
    response = await fetch(request.url, {
      headers: request.headers,
      redirect: 'follow',
      ...(target.signal === undefined ? {} : { signal: target.signal }),
    });
  } catch (error) {
    throw new DownloadFailure(networkReason(error, target.signal), { cause: error });
  }
  if (response.status !== 200 || response.body === null) {
    await response.body?.cancel().catch(() => undefined);
    const status = `HTTP ${response.status}${response.statusText === '' ? '' : ` ${response.statusText}`}`;
    throw new DownloadFailure(response.status === 200 ? 'the response has no body' : status);
  }

  const totalBytes = target.expectedBytes ?? contentLength(response);
  const hash = createHash('sha256');
  const bar = createProgressBar(target.progress, target.label, totalBytes);
  const reader = response.body.getReader();
  let receivedBytes = 0;
  let file: FileHandle | undefined;
  let finished = false;
  try {
    file = await open(tempPath, 'wx');
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        const sofar = `${formatMegabytes(receivedBytes)}${totalBytes === undefined ? '' : ` of ${formatMegabytes(totalBytes)}`} MB`;
        throw new DownloadFailure(`${networkReason(error, target.signal)} after ${sofar}`, { cause: error });
      }
      if (chunk.done) break;
      const bytes: unknown = chunk.value;
      // fetch() bodies are typed loosely; they always yield bytes.
      if (!(bytes instanceof Uint8Array)) throw new DownloadFailure('the response body is not binary');
      receivedBytes += bytes.byteLength;
      if (target.expectedBytes !== undefined && receivedBytes > target.expectedBytes) {
        throw sizeMismatch(target, `more than ${target.expectedBytes} bytes`, undefined);
      }
      hash.update(bytes);
      await writeAll(file, bytes);
      bar.update(receivedBytes);
    }
    finished = true;
    const actual = hash.digest('hex');
    if (target.expectedBytes !== undefined && receivedBytes !== target.expectedBytes) {
      throw sizeMismatch(target, `${receivedBytes} bytes`, actual);
    }
    if (target.sha256 !== undefined && actual !== target.sha256) {
      throw new SkiffError(
        'SKIFF_CHECKSUM_MISMATCH',
        `${target.shownUrl} does not have the expected content: expected sha256 ${target.sha256}, got ${actual}. ` +
          'Nothing was kept; check the URL (or mirror) and the sha256.',
      );
    }
    await file.sync();
    bar.done();
  } finally {
    bar.close();
    if (!finished) await reader.cancel().catch(() => undefined);
    await file?.close();
  }
}

function sizeMismatch(target: FetchTarget, received: string, actualSha256: string | undefined): Error {
  const expected = `${target.expectedBytes} bytes`;
  if (target.sha256 === undefined) {
    return new DownloadFailure(`expected ${expected}, the server sent ${received}`);
  }
  return new SkiffError(
    'SKIFF_CHECKSUM_MISMATCH',
    `${target.shownUrl} does not have the expected content: expected sha256 ${target.sha256} (${expected}), ` +
      `got ${actualSha256 ?? 'a different file'} (${received}). Nothing was kept; check the URL (or mirror) and the sha256.`,
  );
}

async function writeAll(file: FileHandle, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.byteLength) {
    const { bytesWritten } = await file.write(data, offset, data.byteLength - offset);
    offset += bytesWritten;
  }
}

function contentLength(response: Response): number | undefined {
  const header = response.headers.get('content-length');
  if (header === null || response.headers.has('content-encoding')) return undefined;
  const value = Number(header);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** Turns what fetch() throws (a TypeError wrapping the socket error) into a few words. */
function networkReason(error: unknown, signal: AbortSignal | undefined): string {
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

function toDownloadError(error: unknown, shownUrl: string): SkiffError {
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

interface ProgressBar {
  update(receivedBytes: number): void;
  /** Draws the final state (call only on success). */
  done(): void;
  /** Ends the line if anything was drawn. */
  close(): void;
}

const SILENT: ProgressBar = { update() {}, done() {}, close() {} };

function createProgressBar(enabled: boolean, label: string, totalBytes: number | undefined): ProgressBar {
  if (!enabled) return SILENT;
  const out = process.stderr;
  const startedAt = Date.now();
  const name = label.length > 32 ? `${label.slice(0, 31)}…` : label;
  let lastDrawAt = 0;
  let lastLength = 0;
  let received = 0;
  const draw = (): void => {
    const seconds = Math.max((Date.now() - startedAt) / 1000, 0.001);
    const rate = `${formatMegabytes(received / seconds)} MB/s`;
    const amount =
      totalBytes === undefined || totalBytes === 0
        ? `${formatMegabytes(received)} MB`
        : `${String(Math.floor((received / totalBytes) * 100)).padStart(3)}%  ${formatMegabytes(received)}/${formatMegabytes(totalBytes)} MB`;
    const line = `${name}  ${amount}  ${rate}`;
    out.write(`\r${line.padEnd(lastLength)}`);
    lastLength = line.length;
    lastDrawAt = Date.now();
  };
  return {
    update(receivedBytes) {
      received = receivedBytes;
      if (Date.now() - lastDrawAt >= PROGRESS_INTERVAL_MS) draw();
    },
    done() {
      draw();
    },
    close() {
      if (lastLength > 0) out.write('\n');
      lastLength = 0;
    },
  };
}

function formatMegabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
