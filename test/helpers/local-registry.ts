// Test support: Debian's docker-registry (distribution 2.x) on 127.0.0.1, storage in a temp dir.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { trackChild } from './child-processes.js';

export interface LocalRegistry {
  /** `127.0.0.1:<port>`, as image references spell it. */
  readonly host: string;
  stop(): Promise<void>;
}

/** Throws a clear error naming the Debian packages when a command the test needs is missing. */
export function requireCommands(...commands: string[]): void {
  const missing = commands.filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
  if (missing.length > 0)
    throw new Error(
      `missing ${missing.join(', ')}: apt-get install -y --no-install-recommends podman buildah skopeo runc containernetworking-plugins docker-registry (.ci/run does)`,
    );
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface LocalRegistryOptions {
  /** An htpasswd line (`user:<bcrypt hash>`): the registry then wants Basic auth for everything. */
  readonly htpasswd?: string;
}

/** Starts a registry and waits until GET /v2/ answers; stop() kills it and deletes its storage. */
export async function startLocalRegistry(options: LocalRegistryOptions = {}): Promise<LocalRegistry> {
  requireCommands('docker-registry');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-registry-'));
  const port = await freePort();
  const config = path.join(dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${path.join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      ...(options.htpasswd === undefined
        ? []
        : ['auth:', '  htpasswd:', '    realm: skiff-test', `    path: ${path.join(dir, 'htpasswd')}`]),
      '',
    ].join('\n'),
  );
  if (options.htpasswd !== undefined) writeFileSync(path.join(dir, 'htpasswd'), `${options.htpasswd}\n`);
  const child: ChildProcess = spawn('docker-registry', ['serve', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const tracked = trackChild(child);
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const host = `127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      const response = await fetch(`http://${host}/v2/`);
      await response.body?.cancel();
      if (response.status === 200 || response.status === 401) break;
    } catch {
      // not listening yet
    }
    if (i > 100 || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry did not start:\n${log}`);
    }
    await sleep(100);
  }
  return {
    host,
    stop: async () => {
      await tracked.stop('SIGTERM', 10_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
