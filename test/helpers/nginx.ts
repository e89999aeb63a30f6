import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { trackChild } from './child-processes.js';

/** Debian's nginx-light; tests that need it skip (or fail under CI) when it is not there. */
export const NGINX = '/usr/sbin/nginx';

export function nginxInstalled(): boolean {
  return existsSync(NGINX);
}

/** A port that was free a moment ago: bound on port 0, read, released (nginx upstreams need fixed ports). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningNginx {
  readonly port: number;
  readonly prefix: string;
  /** nginx's error log so far (for failure messages). */
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * The load balancer of the rolling-restart test: one nginx in the foreground, everything it writes (pid,
 * logs, temp files) in a fresh prefix, on 127.0.0.1. Keep-alive to the upstreams as a production proxy has
 * it, and POSTs retried on the other upstream when one refuses the connection or answers 502/503: safe for
 * Skiff's inference routes, which change nothing and refuse with 503 before doing any work (see
 * docs/operations.md, "Behind a load balancer").
 */
export async function startNginx(upstreams: readonly number[]): Promise<RunningNginx> {
  const prefix = mkdtempSync(path.join(os.tmpdir(), 'skiff-nginx-'));
  // Run as root, nginx's workers switch to "nobody", which must be able to write its temp folders.
  chmodSync(prefix, 0o755);
  for (const dir of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    mkdirSync(path.join(prefix, dir));
    chmodSync(path.join(prefix, dir), 0o777);
  }
  const port = await freePort();
  const servers = upstreams
    // max_fails=1 fail_timeout=1s: a server that refused is skipped for a second, then tried again, so a
    // replacement on the same port gets traffic soon after it is up.
    .map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=1s;`)
    .join('\n');
  writeFileSync(
    path.join(prefix, 'nginx.conf'),
    `daemon off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 512; }
http {
  access_log ${prefix}/access.log;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  upstream skiff {
${servers}
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://skiff;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_next_upstream_timeout 10s;
      proxy_connect_timeout 2s;
      add_header X-Upstream $upstream_addr always;
    }
  }
}
`,
  );
  const child: ChildProcess = spawn(
    NGINX,
    ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-e', path.join(prefix, 'error.log')],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const tracked = trackChild(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const errorLog = (): string => {
    const file = path.join(prefix, 'error.log');
    return stderr + (existsSync(file) ? readFileSync(file, 'utf8') : '');
  };
  const deadline = performance.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not start:\n${errorLog()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port,
    prefix,
    errorLog,
    stop: async () => {
      // SIGQUIT: nginx's graceful stop; SIGKILL if it lingers.
      await tracked.stop('SIGQUIT', 5000);
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
