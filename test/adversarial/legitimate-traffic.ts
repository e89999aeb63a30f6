import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Answer } from './http-answer.js';
import { sendHttp } from './http-answer.js';
import type { HttpPayload } from './inference-payloads.js';
import { oipInferRequest, photo, predictRequest } from './inference-payloads.js';

export interface LegitimateResult {
  readonly ok: number;
  readonly failed: number;
  /** "predict 200", "oip 503", ... with counts. */
  readonly outcomes: Readonly<Record<string, number>>;
  readonly maxMs: number;
}

const PAUSE_MS = 100;
const TIMEOUT_MS = 15_000;

/**
 * Real clients beside an attack: one sends the photo to `POST /predict`, one an OIP REST infer, each
 * waiting for its answer and a short pause before the next, as a modest well-behaved caller would.
 */
export class LegitimateTraffic {
  private running = true;
  private readonly loops: Promise<void>[];
  private readonly answers: { kind: string; answer: Answer }[] = [];
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 2 });

  constructor(baseUrl: string, model: string, predictNeedsModel: boolean) {
    const requests: [string, HttpPayload][] = [
      ['predict', predictRequest(photo(), predictNeedsModel ? model : undefined)],
      ['oip', oipInferRequest(model)],
    ];
    this.loops = requests.map(async ([kind, payload]) => {
      while (this.running) {
        this.answers.push({ kind, answer: await sendHttp(baseUrl, payload, TIMEOUT_MS, this.agent) });
        await sleep(PAUSE_MS);
      }
    });
  }

  async stop(): Promise<LegitimateResult> {
    this.running = false;
    await Promise.all(this.loops);
    this.agent.destroy();
    const outcomes: Record<string, number> = {};
    for (const { kind, answer } of this.answers) {
      const key = `${kind} ${answer.code}`;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
    const ok = this.answers.filter((a) => a.answer.code === '200').length;
    return {
      ok,
      failed: this.answers.length - ok,
      outcomes,
      maxMs: Math.max(0, ...this.answers.map((a) => a.answer.ms)),
    };
  }
}
