import { readFileSync } from 'node:fs';
import http from 'node:http';

export interface SoakWindow {
  /** Seconds since the load started, at the end of the window. */
  readonly endSeconds: number;
  readonly requests: number;
  readonly errors: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** The server's resident set at the end of the window. */
  readonly rssMiB: number;
  /** The server's JavaScript heap in use (from /metrics), to tell a JS leak from native memory. */
  readonly heapMiB: number;
}

export interface SoakOptions {
  readonly url: string;
  readonly body: Buffer;
  readonly contentType: string;
  readonly concurrency: number;
  readonly windows: number;
  readonly windowSeconds: number;
  /** The server process whose RSS is sampled. */
  readonly pid: number;
  /** The server's Prometheus endpoint, read for the JS heap as each window closes. */
  readonly metricsUrl: string;
  /** Called as each window closes, e.g. to print a table row while a long soak runs. */
  readonly onWindow?: (window: SoakWindow) => void;
}

/**
 * Steady closed-loop load for `windows x windowSeconds`, without pausing between windows: each request is
 * counted in the window it finished in, and the server's RSS is read as each window closes. A non-200
 * answer or a failed connection is an error.
 */
export async function soak(options: SoakOptions): Promise<SoakWindow[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const windowMs = options.windowSeconds * 1000;
  const started = performance.now();
  const deadline = started + options.windows * windowMs;
  const latencies: number[][] = Array.from({ length: options.windows }, () => []);
  const errors = new Array<number>(options.windows).fill(0);
  const windows: SoakWindow[] = [];

  const client = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      let ok = false;
      try {
        ok = (await post(options, agent)) === 200;
      } catch {
        ok = false;
      }
      const t1 = performance.now();
      const index = Math.floor((t1 - started) / windowMs);
      // Finished after the last window closed: not counted anywhere.
      if (index >= options.windows) continue;
      if (ok) latencies[index]?.push(t1 - t0);
      else errors[index] = (errors[index] ?? 0) + 1;
    }
  };
  const sampler = async (): Promise<void> => {
    for (let index = 0; index < options.windows; index++) {
      const end = started + (index + 1) * windowMs;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, end - performance.now())));
      const sorted = [...(latencies[index] ?? [])].sort((a, b) => a - b);
      const at = (q: number): number =>
        sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
      const window: SoakWindow = {
        endSeconds: ((index + 1) * windowMs) / 1000,
        requests: sorted.length,
        errors: errors[index] ?? 0,
        perSecond: sorted.length / options.windowSeconds,
        p50Ms: at(0.5),
        p99Ms: at(0.99),
        maxMs: sorted[sorted.length - 1] ?? NaN,
        rssMiB: rssMiB(options.pid),
        heapMiB: await heapMiB(options.metricsUrl),
      };
      windows.push(window);
      options.onWindow?.(window);
    }
  };
  await Promise.all([sampler(), ...Array.from({ length: options.concurrency }, client)]);
  agent.destroy();
  return windows;
}

async function heapMiB(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? NaN) / 2 ** 20;
}

/** Resident set size of a process, from /proc (Linux). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
  return kib / 1024;
}

export function formatWindow(window: SoakWindow): string {
  const cells = [
    `${window.endSeconds.toFixed(0)} s`,
    String(window.requests),
    String(window.errors),
    window.perSecond.toFixed(1),
    window.p50Ms.toFixed(1),
    window.p99Ms.toFixed(1),
    window.maxMs.toFixed(1),
    window.rssMiB.toFixed(1),
    window.heapMiB.toFixed(1),
  ];
  return `| ${cells.join(' | ')} |`;
}

export const WINDOW_TABLE_HEAD =
  '| until | requests | errors | req/s | p50 ms | p99 ms | max ms | server RSS MiB | JS heap MiB |\n|---|---|---|---|---|---|---|---|---|';

function post(options: SoakOptions, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      options.url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': options.contentType, 'content-length': options.body.length },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}
