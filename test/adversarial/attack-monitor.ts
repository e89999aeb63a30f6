import { Worker } from 'node:worker_threads';
import type { MonitorSamples, MonitorSettings } from './monitor-types.js';

/**
 * Watches a server from the outside while it is attacked, in a thread of its own: its RSS and the latency of
 * `GET /v2/health/live` every `intervalMs`, and a watchdog that SIGKILLs it past `rssCeilingBytes`.
 */
export class AttackMonitor {
  private readonly worker: Worker;
  private readonly failed: Promise<never>;

  constructor(settings: MonitorSettings) {
    this.worker = new Worker(new URL('./monitor-worker.js', import.meta.url), { workerData: settings });
    this.failed = new Promise((_, reject) => {
      this.worker.once('error', reject);
    });
    // Observed so that a failure before stop() is not an unhandled rejection; stop() reports it.
    this.failed.catch(() => undefined);
  }

  async stop(): Promise<MonitorSamples> {
    const samples = new Promise<MonitorSamples>((resolve) =>
      this.worker.once('message', (message: MonitorSamples) => resolve(message)),
    );
    this.worker.postMessage('stop');
    try {
      return await Promise.race([samples, this.failed]);
    } finally {
      await this.worker.terminate();
    }
  }
}
