import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliPath } from '../helpers/paths.js';

/** One JSON line of the server's log, as pino wrote it. */
export type LogRecord = Readonly<Record<string, unknown>> & { readonly msg?: unknown };

export interface SkiffProcess {
  readonly pid: number;
  readonly url: string;
  /** The gRPC port, or -1 when the server was started without gRPC. */
  readonly grpcPort: number;
  /** The folder the server runs in (its cwd and cache): a path that must never show up in an answer. */
  readonly workDir: string;
  /** Everything written to stderr so far. */
  readonly stderr: () => string;
  /** The JSON log lines so far (empty with --log-format pretty). */
  readonly records: () => readonly LogRecord[];
  readonly alive: () => boolean;
  readonly exited: Promise<ProcessExit>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<ProcessExit>;
}

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface StartOptions {
  /** Resolve once the server says "listening" instead of "ready in" (a model that may never load). */
  readonly untilListening?: boolean;
  readonly timeoutMs?: number;
  /** Adds nothing to the command line: the caller passes every serve flag but host and ports. */
  readonly rawArgs?: boolean;
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
 * Spawns the built `skiff serve` with default settings on 127.0.0.1, HTTP and gRPC on free ports, JSON logs;
 * `args` adds flags. Resolves once the server is ready (or listening); rejects with its log if it exits or
 * takes longer than `timeoutMs`.
 */
export function spawnSkiff(args: readonly string[], options: StartOptions = {}): ChildProcess {
  const workDir = options.workDir ?? makeWorkDir();
  const base = options.rawArgs === true ? [] : ['--host', '127.0.0.1', '--port', '0', '--grpc-port', '0'];
  const hasFormat = args.includes('--log-format');
  const child = spawn(
    process.execPath,
    [cliPath(), 'serve', ...base, ...(hasFormat ? [] : ['--log-format', 'json']), ...args],
    { cwd: workDir, env: environment(workDir), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export async function startSkiff(args: readonly string[], options: StartOptions = {}): Promise<SkiffProcess> {
  const workDir = options.workDir ?? makeWorkDir();
  const child = spawnSkiff(args, { ...options, workDir });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn skiff serve');
  let stderr = '';
  let pending = '';
  const records: LogRecord[] = [];
  let exit: ProcessExit | undefined;
  const exited = new Promise<ProcessExit>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    }),
  );
  const stderrStream = child.stderr;
  if (stderrStream === null) throw new Error('no stderr pipe');
  stderrStream.on('data', (chunk: Buffer) => {
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
  const kill = async (): Promise<ProcessExit> => {
    if (exit === undefined) child.kill('SIGKILL');
    return exited;
  };
  const wanted = options.untilListening === true ? /^listening/ : /^ready in /;
  const deadline = performance.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const line = records.find((r) => typeof r.msg === 'string' && wanted.test(r.msg));
    const listening = records.find((r) => typeof r.msg === 'string' && r.msg.startsWith('listening'));
    if (line !== undefined && listening !== undefined && typeof listening.url === 'string') {
      const grpcPort = typeof listening.grpcPort === 'number' ? listening.grpcPort : -1;
      return {
        pid,
        url: listening.url,
        grpcPort,
        workDir,
        stderr: () => stderr,
        records: () => records,
        alive: () => exit === undefined,
        exited,
        kill,
      };
    }
    if (exit !== undefined)
      throw new Error(`skiff serve exited (${JSON.stringify(exit)}) before it was up:\n${stderr}`);
    if (performance.now() > deadline) {
      await kill();
      throw new Error(`skiff serve was not up within ${options.timeoutMs ?? 30_000} ms:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
