import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { SkiffError } from '../core/errors.js';
import { DownloadFailure, networkReason } from './download-failure.js';
import type { DownloadRequest } from './download-request.js';
import { createProgressBar, formatMegabytes } from './progress-bar.js';

export interface FetchTarget {
  readonly shownUrl: string;
  readonly label: string;
  readonly sha256: string | undefined;
  readonly expectedBytes: number | undefined;
  readonly progress: boolean;
  readonly signal: AbortSignal | undefined;
}

/**
 * Streams the response into `tempPath` (which must not exist), hashing as it writes, and fsyncs it once size and
 * sha256 check out. Throws DownloadFailure for what the network or server did, SKIFF_CHECKSUM_MISMATCH for
 * content that is not the pinned file; the caller removes the temp file.
 */
export async function fetchToFile(
  request: DownloadRequest,
  tempPath: string,
  target: FetchTarget,
): Promise<void> {
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
