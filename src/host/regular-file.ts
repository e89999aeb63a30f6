// Every file Skiff reads for a model (model.json, labels, the repository's folders, the model file before ONNX
// Runtime opens it) goes through here. Opening a FIFO blocks until a writer comes, for ever if none does, and
// a dead network mount never answers: either parks a thread that Node's exit then waits for (exit-blockers.ts).
// So anything that is not a regular file is refused before it is opened, files are opened with O_NONBLOCK (a
// FIFO swapped in after the check still cannot block the open), and every call has a time limit.
import { constants, fstatSync, openSync, closeSync, readFileSync } from 'node:fs';
import type { Dirent, Stats } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import type { ErrorCode } from '../core/errors.js';
import { SkiffError } from '../core/errors.js';
import { blockExit } from './exit-blockers.js';

/** How a file is checked, and how its problems are reported. */
export interface FileCheck {
  /** The code every problem with this file is reported with (SKIFF_LABELS_INVALID, SKIFF_CONFIG_UNREADABLE...). */
  readonly code: ErrorCode;
  /** What the file is, put before its path in messages ("labels file", "model config"); '' for the path alone. */
  readonly what: string;
  /** Longest the file system may take to answer one call; unset: no limit of its own. */
  readonly timeoutMs?: number | undefined;
  /** Stop waiting as soon as this aborts, with its reason (a model load that was given up on). */
  readonly signal?: AbortSignal | undefined;
  /** Shown instead of the path: answers over the API must not reveal the server's file layout. */
  readonly shownAs?: string | undefined;
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/** "a FIFO", "a directory"...: what a file that is not a regular one is, for messages. */
export function fileKind(info: Stats): string {
  if (info.isFile()) return 'a regular file';
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** Throws the check's error unless `info` is a regular file. */
export function requireRegularFile(info: Stats, file: string, check: FileCheck): void {
  if (!info.isFile())
    throw new SkiffError(check.code, `${subject(file, check)} is ${fileKind(info)}, not a regular file`);
}

/** stat(), or undefined when nothing is there. Other failures, and time running out, throw the check's error. */
export async function statIfPresent(file: string, check: FileCheck): Promise<Stats | undefined> {
  try {
    return await bounded(stat(file), file, check);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw unreadable(error, file, check);
  }
}

/** stat() of a file that must exist and be a regular file. */
export async function statRegularFile(file: string, check: FileCheck): Promise<Stats> {
  const info = await statIfPresent(file, check);
  if (info === undefined)
    throw new SkiffError(check.code, `cannot read ${subject(file, check)}: ENOENT`, {
      cause: Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' }),
    });
  requireRegularFile(info, file, check);
  return info;
}

/** The whole content of a regular file; anything else is refused without being read. */
export async function readRegularFile(file: string, check: FileCheck): Promise<Buffer> {
  const read = async (): Promise<Buffer> => {
    const handle = await open(file, OPEN_FLAGS);
    try {
      requireRegularFile(await handle.stat(), file, check);
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  };
  try {
    return await bounded(read(), file, check);
  } catch (error) {
    throw unreadable(error, file, check);
  }
}

/**
 * The synchronous form, for files read before signals are handled (the project file): there a call that
 * blocks still leaves SIGTERM its default action. No time limit: a synchronous call cannot be given up on.
 */
export function readRegularFileSync(file: string, check: FileCheck): Buffer {
  let fd: number;
  try {
    fd = openSync(file, OPEN_FLAGS);
  } catch (error) {
    throw unreadable(error, file, check);
  }
  try {
    requireRegularFile(fstatSync(fd), file, check);
    return readFileSync(fd);
  } catch (error) {
    throw unreadable(error, file, check);
  } finally {
    closeSync(fd);
  }
}

/** A folder's entries, or the check's error (also when it is not a folder). */
export async function listDirectory(dir: string, check: FileCheck): Promise<Dirent[]> {
  try {
    return await bounded(readdir(dir, { withFileTypes: true }), dir, check);
  } catch (error) {
    throw unreadable(error, dir, check);
  }
}

/**
 * Waits for `work` at most `check.timeoutMs` and until `check.signal` aborts. Work given up on goes on (a
 * native call cannot be cancelled), registered as an exit blocker until it ends.
 */
async function bounded<T>(work: Promise<T>, file: string, check: FileCheck): Promise<T> {
  const release = blockExit(`a file-system call on ${check.shownAs ?? file}`);
  work.then(release, release);
  const { timeoutMs, signal } = check;
  let timer: NodeJS.Timeout | undefined;
  let onAbort = (): void => undefined;
  const givenUp = new Promise<'timeout' | 'aborted'>((resolve) => {
    if (timeoutMs !== undefined) timer = setTimeout(() => resolve('timeout'), timeoutMs);
    onAbort = () => resolve('aborted');
    if (signal?.aborted === true) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  let done: { value: T } | 'timeout' | 'aborted';
  try {
    done = await Promise.race([work.then((value) => ({ value })), givenUp]);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
  if (typeof done === 'object') return done.value;
  signal?.throwIfAborted();
  throw new SkiffError(
    check.code,
    `${subject(file, check)}: the file system did not answer within ${timeoutMs ?? 0} ms (a hung network mount?)`,
  );
}

function subject(file: string, check: FileCheck): string {
  const shown = check.shownAs ?? file;
  return check.what === '' ? shown : `${check.what} ${shown}`;
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** SkiffErrors (a refusal, a timeout, an abort reason) pass; errno failures name the file and the errno code. */
function unreadable(error: unknown, file: string, check: FileCheck): unknown {
  if (error instanceof SkiffError || !(error instanceof Error) || !('code' in error)) return error;
  const code = typeof error.code === 'string' ? error.code : 'error';
  return new SkiffError(check.code, `cannot read ${subject(file, check)}: ${code}`, { cause: error });
}
