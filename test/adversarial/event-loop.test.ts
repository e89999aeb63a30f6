// Legal but large requests whose parsing and conversion run on the main thread: while one is handled, every
// other request waits, the liveness probe included. Each variant is sent a few times in a row so that the
// probe sees the whole of it; the target is a probe p99 of 50 ms while attacked.
import { test } from 'node:test';
import { assertHarmless } from './expectations.js';
import { GrpcCaller } from './grpc-caller.js';
import type { Answer } from './http-answer.js';
import { sendHttp } from './http-answer.js';
import type { HttpPayload } from './inference-payloads.js';
import { IMAGE_ELEMENTS, INPUT, MODEL } from './inference-payloads.js';
import { modelInferWithBytesContents } from './proto-wire.js';
import { runAttack } from './run-attack.js';

const REPEAT = 3;
const TIMEOUT_MS = 30_000;
const MIB = 2 ** 20;

function json(path: string, body: string): HttpPayload {
  return { path, headers: { 'content-type': 'application/json' }, body: Buffer.from(body) };
}

/** `depth` nested arrays around one number: 2 bytes a level. */
function nested(depth: number): string {
  return `${'['.repeat(depth)}0.5${']'.repeat(depth)}`;
}

/** A tensor as OIP JSON `data`: `elements` float32 values of 9 characters each, flat. */
function floatData(elements: number): string {
  const parts = new Array<string>(elements).fill('0.1234567');
  return `[${parts.join(',')}]`;
}

const VARIANTS: readonly { name: string; make: () => HttpPayload }[] = [
  {
    name: 'OIP JSON BYTES tensor of 4M one-character elements',
    make: () => {
      const count = 4_000_000;
      const data = `[${new Array<string>(count).fill('"a"').join(',')}]`;
      return json(
        `/v2/models/${MODEL}/infer`,
        `{"inputs":[{"name":"${INPUT}","shape":[${count}],"datatype":"BYTES","data":${data}}]}`,
      );
    },
  },
  {
    name: 'OIP JSON data nested 100k levels deep',
    make: () =>
      json(
        `/v2/models/${MODEL}/infer`,
        `{"inputs":[{"name":"${INPUT}","shape":[1,3,224,224],"datatype":"FP32","data":${nested(100_000)}}]}`,
      ),
  },
  {
    name: 'KServe V1 instances nested 100k levels deep',
    make: () => json(`/v1/models/${MODEL}:predict`, `{"instances":${nested(100_000)}}`),
  },
  {
    name: '/predict {"X": ...} nested 100k levels deep',
    make: () => json('/predict', `{"X":${nested(100_000)}}`),
  },
  {
    name: 'OIP JSON FP32 tensor [11,3,224,224] near the body limit',
    make: () => {
      const rows = 11;
      return json(
        `/v2/models/${MODEL}/infer`,
        `{"inputs":[{"name":"${INPUT}","shape":[${rows},3,224,224],"datatype":"FP32","data":${floatData(rows * IMAGE_ELEMENTS)}}]}`,
      );
    },
  },
];

for (const variant of VARIANTS) {
  test(variant.name, { timeout: 120_000 }, async (t) => {
    const payload = variant.make();
    const report = await runAttack(t, {
      name: `${variant.name} (${(payload.body.length / MIB).toFixed(1)} MiB) ×${REPEAT}`,
      timeLimitMs: 60_000,
      attack: async ({ server }) => {
        const answers: Answer[] = [];
        for (let i = 0; i < REPEAT; i++) answers.push(await sendHttp(server.url, payload, TIMEOUT_MS));
        return answers;
      },
    });
    assertHarmless(report);
  });
}

test('gRPC ModelInfer with 4M bytes_contents elements', { timeout: 120_000 }, async (t) => {
  const count = 4_000_000;
  const message = modelInferWithBytesContents(MODEL, INPUT, count);
  const report = await runAttack(t, {
    name: `gRPC ${count} bytes_contents (${(message.length / MIB).toFixed(1)} MiB) ×${REPEAT}`,
    timeLimitMs: 60_000,
    attack: async ({ server }) => {
      const caller = new GrpcCaller(server.grpcPort);
      try {
        const answers: Answer[] = [];
        for (let i = 0; i < REPEAT; i++)
          answers.push(await caller.call('ModelInfer', message, { timeoutMs: TIMEOUT_MS }));
        return answers;
      } finally {
        caller.close();
      }
    },
  });
  assertHarmless(report);
});
