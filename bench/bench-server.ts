import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cliPath } from '../test/helpers/paths.js';
import { grpcPortOf } from '../test/helpers/run-cli.js';
import { readyLine } from './ready-line.js';

/** A server the benchmark started; `stop` ends it (and its process group, for gunicorn's workers). */
export interface BenchServer {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  readonly coldStartMs: number;
  /** Skiff's own account of its start-up, from its "ready in" log line. */
  readonly breakdown?: string;
  /** Skiff started with gRPC on: its gRPC endpoint, grpc://127.0.0.1:<port>. */
  readonly grpcUrl?: string;
  stop(): void;
}

export interface SkiffOptions {
  readonly name: string;
  /**
   * A model file, or a zoo name (then `env` should point SKIFF_CACHE_DIR at a cache holding it); absent:
   * `skiff serve`'s embedded default model.
   */
  readonly model?: string;
  readonly labels?: string;
  readonly workers: number;
  readonly threadsPerWorker: number;
  readonly env?: Readonly<Record<string, string>>;
  /** Serve gRPC too, on a free port (the bench's servers otherwise have it off). */
  readonly grpc?: boolean;
}

/** Starts `skiff serve` on a free port and resolves once its log says it is ready. */
export function startSkiff(options: SkiffOptions): Promise<BenchServer> {
  const started = performance.now();
  const args = [
    cliPath(),
    'serve',
    ...(options.model === undefined ? [] : ['--model', options.model]),
    ...(options.labels === undefined ? [] : ['--labels', options.labels]),
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--workers',
    String(options.workers),
    '--threads-per-worker',
    String(options.threadsPerWorker),
    '--max-queue-size',
    '256',
    options.grpc === true ? '--grpc-port=0' : '--grpc-port=-1',
    '--no-access-log',
    '--log-format',
    'json',
  ];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let log = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const ready = readyLine(log);
      if (ready !== undefined) {
        const grpcPort = options.grpc === true ? grpcPortOf(log) : undefined;
        resolve({
          ...(grpcPort === undefined ? {} : { grpcUrl: `grpc://127.0.0.1:${grpcPort}` }),
          name: options.name,
          url: ready.url,
          child,
          coldStartMs: performance.now() - started,
          breakdown: ready.message,
          stop: () => child.kill('SIGTERM'),
        });
      }
    });
    child.on('exit', (code) => reject(new Error(`${options.name} exited with ${code}:\n${log}`)));
  });
}

/** Resident memory of a process plus its children (gunicorn's workers), and the process's own peak, in MiB. */
export function rssMiB(pid: number | undefined): { rss: number; peak: number } {
  const read = (id: number, key: string): number => {
    try {
      const status = readFileSync(`/proc/${id}/status`, 'utf8');
      return Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
    } catch {
      return 0;
    }
  };
  const children = (id: number): number[] => {
    try {
      return readFileSync(`/proc/${id}/task/${id}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  };
  if (pid === undefined) return { rss: NaN, peak: NaN };
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...children(all[i] ?? 0));
  return { rss: all.reduce((sum, id) => sum + read(id, 'VmRSS'), 0), peak: read(pid, 'VmHWM') };
}
