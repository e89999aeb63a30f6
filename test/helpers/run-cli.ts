import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { trackChild } from './child-processes.js';
import { cliPath } from './paths.js';
import { findLogRecord } from './log-record.js';

export interface CliResult {
  readonly code: number | null;
  /** The signal that ended the process, when one did (then `code` is null). */
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  /** For startCli: resolve once the server listens instead of once it is ready. */
  readonly untilListening?: boolean;
  /** Options for node itself, before the CLI's path (e.g. `--import` of a recorder). */
  readonly nodeArgs?: readonly string[];
}

function environment(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  // The caller's own SKIFF_* settings must not leak into a test's CLI run; tests stop at once unless they
  // set a drain delay themselves.
  const inherited = Object.entries(process.env).filter(([key]) => !key.startsWith('SKIFF_'));
  // gRPC on a free port, so test files running side by side never contend for 8081. No optimized graphs
  // saved into the user's cache folder by tests (optimized-graph-cache.test.ts covers that cache).
  return {
    ...Object.fromEntries(inherited),
    SKIFF_DRAIN_DELAY_MS: '0',
    SKIFF_GRPC_PORT: '0',
    SKIFF_GRAPH_CACHE: 'false',
    ...extra,
  };
}

/** Runs the built CLI to completion (killed after timeoutMs). */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), cliPath(), ...args], {
      env: environment(options.env),
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackChild(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface ServingCli {
  readonly child: ChildProcess;
  readonly url: string;
  readonly stderr: () => string;
  /**
   * Sends a signal and waits for the exit code; SIGKILL after `graceMs` (default 30 s), and then null: a
   * server that does not stop fails the test instead of hanging it.
   */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
  /** How the process ended: its exit code, or the signal that ended it. */
  readonly ended: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
}

/** Starts `skiff serve ...` and waits until its log says it is ready (or listening); rejects with the log if it exits first. */
export function startCli(args: readonly string[], options: CliOptions = {}): Promise<ServingCli> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), cliPath(), 'serve', ...args], {
      env: environment(options.env),
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tracked = trackChild(child);
    let stderr = '';
    let url: string | undefined;
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.on('close', (code, signal) => done({ code, signal })),
    );
    const exited = tracked.closed;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`not ready in time:\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      url ??= /"url":"(http:[^"]+)"/.exec(stderr)?.[1];
      if (url !== undefined && (options.untilListening === true || /"msg":"ready in /.test(stderr))) {
        clearTimeout(timer);
        const ready = url;
        resolve({
          child,
          url: ready,
          stderr: () => stderr,
          ended,
          stop: (signal = 'SIGTERM', graceMs = 30_000) => tracked.stop(signal, graceMs),
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`skiff serve exited with ${code}:\n${stderr}`));
    });
  });
}

/**
 * The gRPC port a serving CLI reported in its JSON "listening" line (its `grpcPort` field, -1 with gRPC off);
 * undefined until that line has been written.
 */
export function grpcPortOf(log: string): number | undefined {
  return findLogRecord(log, ({ msg, grpcPort }) =>
    typeof msg === 'string' && msg.startsWith('listening') && typeof grpcPort === 'number'
      ? grpcPort
      : undefined,
  );
}
