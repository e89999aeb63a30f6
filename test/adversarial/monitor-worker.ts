// Runs in its own thread so that what it measures is the server, not the attacker: the test's main thread is
// busy building and sending attack payloads, which would delay its own timers and inflate probe latency.
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { readRssBytes } from './proc-rss.js';
import type { MonitorSettings, MonitorSamples, ProbeSample, RssSample } from './monitor-types.js';
import { clock as now } from './monitor-types.js';

const settings = workerData as MonitorSettings;

/**
 * Open loop: a probe is due every tick whether or not the last one came back, and its latency counts from
 * when it was due, so a stalled event loop shows as the whole stall, not as one slow sample.
 */
class Prober {
  readonly samples: ProbeSample[] = [];
  skipped = 0;
  outstanding = 0;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: settings.maxOutstandingProbes });

  constructor(private readonly url: string) {}

  probe(scheduledAt: number): void {
    if (this.outstanding >= settings.maxOutstandingProbes) {
      this.skipped++;
      return;
    }
    this.outstanding++;
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      this.outstanding--;
      this.samples.push({ at: scheduledAt, ms: now() - scheduledAt, ok });
    };
    const request = http.get(this.url, { agent: this.agent }, (response) => {
      response.resume();
      response.on('end', () => finish(response.statusCode === 200));
      response.on('error', () => finish(false));
    });
    request.setTimeout(settings.probeTimeoutMs, () => request.destroy(new Error('probe timed out')));
    request.on('error', () => finish(false));
  }

  close(): void {
    this.agent.destroy();
  }
}

const server = new Prober(`${settings.url}/v2/health/live`);
const reference = new Prober(settings.referenceUrl);
const rss: RssSample[] = [];
let watchdogFiredAt: number | undefined;

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
  if (bytes !== undefined && watchdogFiredAt === undefined) server.probe(at);
  reference.probe(at);
}, settings.intervalMs);

parentPort?.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  const deadline = now() + settings.probeTimeoutMs;
  const finish = (): void => {
    if (server.outstanding + reference.outstanding > 0 && now() < deadline) {
      setTimeout(finish, 10);
      return;
    }
    server.close();
    reference.close();
    const samples: MonitorSamples = {
      rss,
      probes: server.samples,
      skippedProbes: server.skipped,
      referenceProbes: reference.samples,
      watchdogFiredAt,
    };
    parentPort?.postMessage(samples);
  };
  finish();
});
