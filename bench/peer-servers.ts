/**
 * The Python peers: the same ResNet50 weights in PyTorch behind Flask, (1) under gunicorn with the model
 * loaded once per worker, the usual production setup, and (2) loading the model in every request, as the
 * seed did. Both come from Debian: python3-flask, gunicorn, python3-torch, python3-torchvision.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../test/helpers/paths.js';
import type { BenchServer } from './bench-server.js';

/** Debian's interpreter: the python3 first on PATH may be another one, without the Debian packages. */
export const PYTHON = '/usr/bin/python3';
const GUNICORN = '/usr/bin/gunicorn';
export const INSTALL_PEERS =
  'sudo apt-get install -y --no-install-recommends python3-flask gunicorn python3-torch python3-torchvision';

/** Why the peers cannot run here, or undefined when they can. */
export function peersMissing(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const probe = spawnSync(PYTHON, ['-c', 'import flask, torch, torchvision, PIL'], { encoding: 'utf8' });
  if (probe.status !== 0) return (probe.stderr.trim().split('\n').pop() ?? 'import failed').trim();
  if (!existsSync(GUNICORN)) return `${GUNICORN} not found`;
  return undefined;
}

/** torch.onnx/torch are present (for building the model), even if Flask or gunicorn are not. */
export function torchAvailable(): boolean {
  return (
    existsSync(PYTHON) &&
    spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { stdio: 'ignore' }).status === 0
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

async function waitHealthy(
  url: string,
  child: { exitCode: number | null },
  name: string,
  log: () => string,
): Promise<void> {
  const deadline = performance.now() + 120_000;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${log()}`);
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`${name} not healthy in 120 s:\n${log()}`);
}

export interface PeerOptions {
  readonly stateDict: string;
  readonly labels: string;
  /** Processes (gunicorn workers; the seed-style server is one process) and torch threads in each. */
  readonly workers: number;
  readonly threadsPerWorker: number;
}

async function startPython(
  name: string,
  command: string,
  args: readonly string[],
  env: Record<string, string>,
): Promise<BenchServer> {
  const started = performance.now();
  const port = await freePort();
  const child = spawn(
    command,
    args.map((a) => a.replace('{port}', String(port))),
    {
      cwd: path.join(repoRoot(), 'bench', 'peers'),
      env: { ...process.env, ...env, PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
      // Its own process group, so stopping it also stops gunicorn's workers.
      detached: true,
    },
  );
  let log = '';
  child.stderr.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const stop = (): void => {
    if (child.pid === undefined || child.exitCode !== null) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  try {
    await waitHealthy(url, child, name, () => log);
  } catch (error) {
    stop();
    throw error;
  }
  return { name, url, child, coldStartMs: performance.now() - started, stop };
}

/** gunicorn -w <workers> (sync workers), each with the model loaded once and <threadsPerWorker> torch threads. */
export function startGunicorn(options: PeerOptions): Promise<BenchServer> {
  return startPython(
    `gunicorn ${options.workers}w + PyTorch`,
    GUNICORN,
    ['-w', String(options.workers), '-b', '127.0.0.1:{port}', '--timeout', '300', 'flask_torch:app'],
    {
      BENCH_STATE_DICT: options.stateDict,
      BENCH_LABELS: options.labels,
      BENCH_TORCH_THREADS: String(options.threadsPerWorker),
    },
  );
}

/** Flask's own threaded server building the model and loading its weights in every request, as the seed did. */
export function startSeedStyle(options: PeerOptions): Promise<BenchServer> {
  return startPython('seed-style (model per request)', PYTHON, ['flask_torch.py', '{port}'], {
    BENCH_STATE_DICT: options.stateDict,
    BENCH_LABELS: options.labels,
    BENCH_TORCH_THREADS: String(options.workers * options.threadsPerWorker),
    BENCH_LOAD_PER_REQUEST: '1',
  });
}
