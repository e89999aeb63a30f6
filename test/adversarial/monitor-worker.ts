// Runs in its own thread so that what it measures is the server, not the attacker: the test's main thread is
// busy building and sending attack payloads, which would delay its own timers and inflate probe latency.
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { readRssBytes } from './proc-rss.js';
import type { MonitorSettings, MonitorSamples, ProbeSample, RssSample } from './monitor-types.js';
import { clock as now } from './monitor-types.js';

const settings = workerData as MonitorSettings;
const agent = new http.Agent({ keepAlive: true, maxSockets: settings.maxOutstandingProbes });
const rss: RssSample[] = [];
const probes: ProbeSample[] = [];
let outstanding = 0;
let skippedProbes = 0;
let watchdogFiredAt: number | undefined;

function probe(scheduledAt: number): void {
  // Open loop: a probe is due every tick whether or not the last one came back, and its latency counts
  // from when it was due, so a stalled event loop shows as the whole stall, not as one slow sample.
  if (outstanding >= settings.maxOutstandingProbes) {
    skippedProbes++;
    return;
  }
  outstanding++;
  let done = false;
  const finish = (ok: boolean): void => {
    if (done) return;
    done = true;
    outstanding--;
    probes.push({ at: scheduledAt, ms: now() - scheduledAt, ok });
  };
  const request = http.get(`${settings.url}/v2/health/live`, { agent }, (response) => {
    response.resume();
    response.on('end', () => finish(response.statusCode === 200));
    response.on('error', () => finish(false));
  });
  request.setTimeout(settings.probeTimeoutMs, () => request.destroy(new Error('probe timed out')));
  request.on('error', () => finish(false));
}

const timer = setInterval(() => {
  const at = now();
  const bytes = readRssBytes(settings.pid);
  if (bytes !== undefined) {
    rss.push({ at, bytes });
    if (bytes > settings.rssCeilingBytes && watchdogFiredAt === undefined) {
      // The attack would otherwise take the machine down with it; the report says the server did not survive.
      watchdogFiredAt = at;
      try {
        process.kill(settings.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  if (bytes !== undefined && watchdogFiredAt === undefined) probe(at);
}, settings.intervalMs);

parentPort?.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  const deadline = now() + settings.probeTimeoutMs;
  const finish = (): void => {
    if (outstanding > 0 && now() < deadline) {
      setTimeout(finish, 10);
      return;
    }
    agent.destroy();
    const samples: MonitorSamples = { rss, probes, skippedProbes, watchdogFiredAt };
    parentPort?.postMessage(samples);
  };
  finish();
});
