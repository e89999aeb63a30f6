// One small request asking for the same output thousands of times: each copy is classified and encoded, so
// a 1 MB request can make the server build a response of hundreds of MB. Duplicates are invalid (Triton
// refuses them), so the expected answer is a fast 400 / INVALID_ARGUMENT and no memory growth.
import { test } from 'node:test';
import type { AttackReport } from './attack-report.js';
import { assertHarmless } from './expectations.js';
import { GrpcCaller } from './grpc-caller.js';
import { sendHttp } from './http-answer.js';
import { INPUT, MODEL, OUTPUT, imageTensor } from './inference-payloads.js';
import type { HttpPayload } from './inference-payloads.js';
import { runAttack } from './run-attack.js';

const TIMEOUT_MS = 20_000;

/** Duplicate outputs are an invalid request: anything but a refusal as such is a failure. */
function notRefused(report: AttackReport, wanted: string): string | false {
  const other = report.answers.filter((answer) => answer.code !== wanted).map((answer) => answer.code);
  return other.length > 0 && `duplicate outputs were not refused with ${wanted}: ${other.join(', ')}`;
}

function restRequest(copies: number, classification: number | undefined): HttpPayload {
  const raw = imageTensor(1);
  const output =
    classification === undefined ? { name: OUTPUT } : { name: OUTPUT, parameters: { classification } };
  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        {
          name: INPUT,
          shape: [1, 3, 224, 224],
          datatype: 'FP32',
          parameters: { binary_data_size: raw.length },
        },
      ],
      outputs: Array<unknown>(copies).fill(output),
    }),
  );
  return {
    path: `/v2/models/${MODEL}/infer`,
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(header.length),
    },
    body: Buffer.concat([header, raw]),
  };
}

for (const [copies, classification] of [
  [1000, 1000],
  [10_000, 1000],
  [10_000, undefined],
] as const) {
  const asked = classification === undefined ? 'raw logits' : `classification ${classification}`;
  test(
    `REST: ${copies} copies of "${OUTPUT}" (${asked}) in one infer request`,
    { timeout: 90_000 },
    async (t) => {
      const payload = restRequest(copies, classification);
      const report = await runAttack(t, {
        name: `output amplification REST ×${copies} ${asked} (${(payload.body.length / 1024).toFixed(0)} KiB)`,
        attack: async ({ server, note }) => {
          const answer = await sendHttp(server.url, payload, TIMEOUT_MS);
          note('responseMiB', (answer.bytes / 2 ** 20).toFixed(1));
          return [answer];
        },
      });
      assertHarmless(report, {}, [notRefused(report, '400')]);
    },
  );
}

for (const copies of [1000, 10_000]) {
  test(
    `gRPC: ${copies} copies of "${OUTPUT}" (classification 1000) in ModelInferRequest.outputs`,
    { timeout: 90_000 },
    async (t) => {
      const report = await runAttack(t, {
        name: `output amplification gRPC ×${copies} classification 1000`,
        attack: async ({ server, note }) => {
          const caller = new GrpcCaller(server.grpcPort);
          try {
            const request = caller.encode('ModelInfer', {
              model_name: MODEL,
              inputs: [{ name: INPUT, datatype: 'FP32', shape: [1, 3, 224, 224] }],
              outputs: Array.from({ length: copies }, () => ({
                name: OUTPUT,
                parameters: { classification: { int64_param: 1000 } },
              })),
              raw_input_contents: [imageTensor(1)],
            });
            note('requestKiB', (request.length / 1024).toFixed(0));
            const answer = await caller.call('ModelInfer', request, { timeoutMs: TIMEOUT_MS });
            note('responseMiB', (answer.bytes / 2 ** 20).toFixed(1));
            return [answer];
          } finally {
            caller.close();
          }
        },
      });
      assertHarmless(report, {}, [notRefused(report, 'INVALID_ARGUMENT')]);
    },
  );
}
