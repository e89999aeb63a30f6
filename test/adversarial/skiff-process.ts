import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cliPath } from '../helpers/paths.js';

/** One JSON line of the server's log, as pino wrote it. */
export type LogRecord = Readonly<Record<string, unknown>> & { readonly msg?: unknown };

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A `skiff serve` child process, from the moment it is spawned. */
export interface LaunchedSkiff {
  readonly pid: number;
  /** The folder the server runs in (its cwd and cache): a path that must never show up in an answer. */
  readonly workDir: string;
  /** Everything written to stderr so far. */
  readonly stderr: () => string;
  /** The JSON log lines so far (none with --log-format pretty). */
  readonly records: () => readonly LogRecord[];
  readonly alive: () => boolean;
  readonly exited: Promise<ProcessExit>;
  /** Resolves with the first log line matching, undefined if the process exits or `timeoutMs` passes first. */
  logLine(test: (record: LogRecord) => boolean, timeoutMs: number): Promise<LogRecord | undefined>;
  /** SIGKILL, wait for the exit, remove the work folder. */
  kill(): Promise<ProcessExit>;
}

/** A server that said it listens: where to reach it. */
export interface SkiffProcess extends LaunchedSkiff {
  readonly url: string;
  /** The gRPC port, or -1 when the server runs without gRPC. */
  readonly grpcPort: number;
}

export interface StartOptions {
  /** Resolve once the server says "listening" instead of "ready in" (a model that may never load). */
  readonly untilListening?: boolean;
  readonly timeoutMs?: number;
  /** The server's cwd and cache; handed over: removed when the server is killed. */
  readonly workDir?: string;
}

// Every server started here is killed when the test process ends, however it ends, so that a failed
// assertion or a timeout never leaves a server holding memory on a shared machine.
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** A fresh folder under the system temp dir, named so that leak checks can recognise it. */
export function makeWorkDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'skiff-attack-'));
}

/** The environment of a server under attack: none of the caller's SKIFF_* settings, nothing cached in $HOME. */
function environment(workDir: string): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([key]) => !key.startsWith('SKIFF_'));
  return {
    ...Object.fromEntries(inherited),
    SKIFF_CACHE_DIR: path.join(workDir, 'cache'),
    SKIFF_GRAPH_CACHE: 'false',
  };
}

/**
 * Spawns the built `skiff serve` with default settings, on 127.0.0.1 with HTTP and gRPC on free ports and
 * JSON logs unless `args` says otherwise.
 */
export function launchSkiff(args: readonly string[], workDir = makeWorkDir()): LaunchedSkiff {
  const base = ['--host', '127.0.0.1', '--port', '0', '--grpc-port', '0'];
  const format = args.includes('--log-format') ? [] : ['--log-format', 'json'];
  const child = spawn(process.execPath, [cliPath(), 'serve', ...base, ...format, ...args], {
    cwd: workDir,
    env: environment(workDir),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn skiff serve');
  children.add(child);
  let stderr = '';
  let pending = '';
  const records: LogRecord[] = [];
  let exit: ProcessExit | undefined;
  const exited = new Promise<ProcessExit>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      exit = { code, signal };
      resolve(exit);
    }),
  );
  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stderr += text;
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        records.push(JSON.parse(line) as LogRecord);
      } catch {
        // Not one of pino's lines (a native library writing to stderr): kept in stderr only.
      }
    }
  });
  return {
    pid,
    workDir,
    stderr: () => stderr,
    records: () => records,
    alive: () => exit === undefined,
    exited,
    logLine: async (test, timeoutMs) => {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const found = records.find(test);
        if (found !== undefined) return found;
        if (exit !== undefined || performance.now() > deadline) return undefined;
        await sleep(20);
      }
    },
    kill: async () => {
      if (exit === undefined) child.kill('SIGKILL');
      const result = await exited;
      rmSync(workDir, { recursive: true, force: true });
      return result;
    },
  };
}

const message =
  (pattern: RegExp) =>
  (record: LogRecord): boolean =>
    typeof record.msg === 'string' && pattern.test(record.msg);

/** Where the server listens, from its JSON "listening" line or, with --log-format pretty, its text form. */
function listeningAt(launched: LaunchedSkiff): { url: string; grpcPort: number } | undefined {
  const record = launched.records().find(message(/^listening/));
  if (record !== undefined && typeof record.url === 'string')
    return { url: record.url, grpcPort: typeof record.grpcPort === 'number' ? record.grpcPort : -1 };
  const line = /^\S+ INFO\s+listening\b.*$/m.exec(launched.stderr())?.[0];
  const url = line === undefined ? undefined : / url=(http:\/\/\S+)/.exec(line)?.[1];
  if (line === undefined || url === undefined) return undefined;
  return { url, grpcPort: Number(/ grpcPort=(\d+)/.exec(line)?.[1] ?? -1) };
}

function isReady(launched: LaunchedSkiff): boolean {
  return launched.records().some(message(/^ready in /)) || /^\S+ INFO\s+ready in /m.test(launched.stderr());
}

/** Launches the server and resolves once it is ready (or listening); rejects with its log otherwise. */
export async function startSkiff(args: readonly string[], options: StartOptions = {}): Promise<SkiffProcess> {
  const launched = launchSkiff(args, options.workDir);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const at = listeningAt(launched);
    if (at !== undefined && (options.untilListening === true || isReady(launched)))
      return { ...launched, ...at };
    if (!launched.alive() || performance.now() > deadline) {
      await launched.kill();
      throw new Error(`skiff serve was not up within ${timeoutMs} ms:\n${launched.stderr()}`);
    }
    await sleep(20);
  }
}
