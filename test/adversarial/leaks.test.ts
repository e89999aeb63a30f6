// What a failure answer tells a stranger: no server path, no stack trace, no ONNX Runtime internals, on
// every protocol; with --auth-token no gRPC method but ServerLive answers without it; and nothing a client
// puts in a URL reaches the log as a raw control character.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status as Status } from '@grpc/grpc-js';
import { findLeaks } from './find-leaks.js';
import { GrpcCaller } from './grpc-caller.js';
import type { HttpPayload } from './inference-payloads.js';
import { imageTensor, INPUT, MODEL, oipInferRequest, photo, predictRequest } from './inference-payloads.js';
import { sendHttp } from './http-answer.js';
import type { RepositoryModel } from './model-repository.js';
import { makeRepository } from './model-repository.js';
import { makeWorkDir, startSkiff } from './skiff-process.js';

const REPOSITORY: Readonly<Record<string, RepositoryModel>> = {
  good: 'copy',
  broken: 'broken',
  'unknown-op': 'unknown-op',
  'runtime-error': 'runtime-error',
  'empty-labels': 'empty-labels',
  'missing-labels': 'missing-labels',
  'bad-config': 'bad-config',
};

const get = (path: string): HttpPayload & { method: string } => ({
  method: 'GET',
  path,
  headers: {},
  body: Buffer.alloc(0),
});
const post = (path: string, body: unknown): HttpPayload => ({
  path,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify(body)),
});

/** An input ONNX Runtime itself refuses: 3 values reshaped to 5x5. */
const RESHAPE_REQUEST = {
  inputs: [
    { name: 'X', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] },
    { name: 'S', shape: [2], datatype: 'INT64', data: [5, 5] },
  ],
};

test(
  'failure answers carry no server path, stack trace or ONNX Runtime internals (REST and gRPC)',
  { timeout: 90_000 },
  async (t) => {
    const workDir = makeWorkDir();
    const repository = makeRepository(workDir, REPOSITORY);
    const server = await startSkiff(['--model-repository', repository, '--repository-api'], { workDir });
    // Leak → the answers that showed it: the same reason leaks through many routes.
    const leaks = new Map<string, string[]>();
    const seen: string[] = [];
    const check = (what: string, text: string): void => {
      seen.push(`${what}: ${text.slice(0, 160)}`);
      for (const leak of findLeaks(text, workDir)) {
        const key = leak.replaceAll(workDir, '<work dir>');
        leaks.set(key, [...(leaks.get(key) ?? []), what]);
      }
    };
    try {
      const requests: [string, HttpPayload & { method?: string }][] = [
        ['GET /v2/health/ready', get('/v2/health/ready')],
        ['GET /ui/api/models', get('/ui/api/models')],
        ['POST /v2/repository/index', post('/v2/repository/index', {})],
        ['OIP infer that ONNX Runtime refuses', post('/v2/models/runtime-error/infer', RESHAPE_REQUEST)],
        [
          'V1 predict that ONNX Runtime refuses',
          post('/v1/models/runtime-error:predict', { inputs: { X: [[1, 2, 3]], S: [5, 5] } }),
        ],
      ];
      for (const name of Object.keys(REPOSITORY)) {
        requests.push(
          [`GET /v2/models/${name}/ready`, get(`/v2/models/${name}/ready`)],
          [`GET /v2/models/${name}`, get(`/v2/models/${name}`)],
          [`GET /v1/models/${name}`, get(`/v1/models/${name}`)],
          [`OIP infer ${name}`, oipInferRequest(name)],
          [
            `V1 predict ${name}`,
            post(`/v1/models/${name}:predict`, { instances: [{ b64: photo().toString('base64') }] }),
          ],
          [`/predict ${name}`, predictRequest(photo(), name)],
          [`POST /v2/repository/models/${name}/load`, post(`/v2/repository/models/${name}/load`, {})],
        );
      }
      for (const [what, payload] of requests) {
        const answer = await sendHttp(server.url, payload, 15_000);
        check(`${what} → ${answer.code}`, answer.text);
      }
      const grpc = new GrpcCaller(server.grpcPort);
      try {
        const calls: [string, string, object][] = [
          ['RepositoryIndex', 'RepositoryIndex', {}],
          [
            'ModelInfer that ONNX Runtime refuses',
            'ModelInfer',
            {
              model_name: 'runtime-error',
              inputs: [
                { name: 'X', datatype: 'FP32', shape: [1, 3], contents: { fp32_contents: [1, 2, 3] } },
                { name: 'S', datatype: 'INT64', shape: [2], contents: { int64_contents: [5, 5] } },
              ],
            },
          ],
        ];
        for (const name of Object.keys(REPOSITORY)) {
          calls.push(
            [`ModelReady ${name}`, 'ModelReady', { name }],
            [`ModelMetadata ${name}`, 'ModelMetadata', { name }],
            [
              `ModelInfer ${name}`,
              'ModelInfer',
              {
                model_name: name,
                inputs: [{ name: INPUT, datatype: 'FP32', shape: [1, 3, 224, 224] }],
                raw_input_contents: [imageTensor(1)],
              },
            ],
            [`RepositoryModelLoad ${name}`, 'RepositoryModelLoad', { model_name: name }],
          );
        }
        for (const [what, method, request] of calls) {
          const answer = await grpc.call(method, request, { timeoutMs: 15_000 });
          // An OK answer's message is protobuf; its readable parts (reasons, names) are checked as text.
          check(
            `gRPC ${what} → ${answer.code}`,
            `${answer.text}\n${answer.trailers}\n${answer.response?.toString('latin1') ?? ''}`,
          );
        }
      } finally {
        grpc.close();
      }
    } finally {
      await server.kill();
    }
    t.diagnostic(`${seen.length} answers checked`);
    const lines = [...leaks].map(([leak, where]) => `${leak} — in ${where.join('; ')}`);
    for (const [leak, where] of leaks) {
      t.diagnostic(leak);
      t.diagnostic(`  in ${where.join('; ')}`);
    }
    assert.deepEqual(lines, []);
  },
);

const TOKEN = 'adversarial-token-0123456789';

test(
  '--auth-token: every gRPC method but ServerLive refuses a call without the token',
  { timeout: 60_000 },
  async (t) => {
    const workDir = makeWorkDir();
    const repository = makeRepository(workDir, { [MODEL]: 'copy' });
    const server = await startSkiff(
      ['--model-repository', repository, '--repository-api', '--auth-token', TOKEN],
      {
        workDir,
      },
    );
    const grpc = new GrpcCaller(server.grpcPort);
    const answered: string[] = [];
    const wrong: string[] = [];
    try {
      const calls: [string, object][] = [
        ['ServerLive', {}],
        ['ServerReady', {}],
        ['ModelReady', { name: MODEL }],
        ['ServerMetadata', {}],
        ['ModelMetadata', { name: MODEL }],
        [
          'ModelInfer',
          {
            model_name: MODEL,
            inputs: [{ name: INPUT, datatype: 'FP32', shape: [1, 3, 224, 224] }],
            raw_input_contents: [imageTensor(1)],
          },
        ],
        ['RepositoryIndex', {}],
        ['RepositoryModelLoad', { model_name: MODEL }],
        ['RepositoryModelUnload', { model_name: 'no-such-model' }],
      ];
      for (const [method, request] of calls) {
        for (const [who, metadata] of [
          ['no token', {}],
          ['a wrong token', { authorization: 'Bearer not-the-token-at-all' }],
        ] as const) {
          const answer = await grpc.call(method, request, { timeoutMs: 15_000, metadata });
          answered.push(`${method} with ${who}: ${answer.code}`);
          const want = method === 'ServerLive' ? 'OK' : Status[Status.UNAUTHENTICATED];
          if (answer.code !== want)
            wrong.push(`${method} with ${who} answered ${answer.code} (want ${want})`);
        }
        // Control: with the token the same call gets past authentication, so a refusal above is the token's.
        const trusted = await grpc.call(method, request, {
          timeoutMs: 15_000,
          metadata: { authorization: `Bearer ${TOKEN}` },
        });
        answered.push(`${method} with the token: ${trusted.code}`);
        if (trusted.code === Status[Status.UNAUTHENTICATED]) wrong.push(`${method} refused the right token`);
      }
    } finally {
      grpc.close();
      await server.kill();
    }
    t.diagnostic(answered.join('; '));
    assert.deepEqual(wrong, []);
  },
);

/** ESC [31m, CR, BEL and a newline, then text that would pass for a log line of its own. */
const HOSTILE_NAME = 'evil\u001b[31mred\r\u0007\nFORGED 12:00:00.000 INFO  request status=200';

test(
  'control characters in a model name never reach the log raw (--log-format pretty)',
  { timeout: 60_000 },
  async (t) => {
    const server = await startSkiff(['--log-format', 'pretty']);
    let log: string;
    try {
      const name = encodeURIComponent(HOSTILE_NAME);
      const requests: [string, HttpPayload & { method?: string }][] = [
        ['GET ready', get(`/v2/models/${name}/ready`)],
        ['GET metadata', get(`/v2/models/${name}`)],
        ['OIP infer', oipInferRequest(HOSTILE_NAME)],
        ['GET V1 model', get(`/v1/models/${name}`)],
        ['V1 predict', post(`/v1/models/${name}:predict`, { instances: [[1]] })],
        ['/predict', predictRequest(photo('samoyed_128.png'), HOSTILE_NAME)],
      ];
      const statuses: string[] = [];
      for (const [what, payload] of requests)
        statuses.push(`${what} ${(await sendHttp(server.url, payload, 10_000)).code}`);
      const grpc = new GrpcCaller(server.grpcPort);
      try {
        for (const [method, request] of [
          ['ModelReady', { name: HOSTILE_NAME }],
          ['ModelMetadata', { name: HOSTILE_NAME }],
          [
            'ModelInfer',
            { model_name: HOSTILE_NAME, inputs: [{ name: INPUT, datatype: 'FP32', shape: [1] }] },
          ],
        ] as const)
          statuses.push(`gRPC ${method} ${(await grpc.call(method, request, { timeoutMs: 10_000 })).code}`);
      } finally {
        grpc.close();
      }
      t.diagnostic(statuses.join('; '));
      // Give the logger a moment to flush the last lines.
      await new Promise((resolve) => setTimeout(resolve, 300));
      log = server.stderr();
    } finally {
      await server.kill();
    }
    const problems: string[] = [];
    // Tab and newline are the log's own; any other C0 control or DEL came from the request.
    const controls = Array.from(Buffer.from(log, 'utf8'))
      .filter((code) => (code < 0x20 && code !== 0x09 && code !== 0x0a) || code === 0x7f)
      .map((code) => `U+${code.toString(16).padStart(4, '0')}`);
    if (controls.length > 0)
      problems.push(
        `raw control characters in the log: ${[...new Set(controls)].join(' ')} (${controls.length}×)`,
      );
    const forged = log.split('\n').filter((line) => line.trimStart().startsWith('FORGED'));
    if (forged.length > 0)
      problems.push(
        `a newline in the name started ${forged.length} log lines of its own: ${JSON.stringify(forged[0])}`,
      );
    for (const line of log
      .split('\n')
      .filter((l) => l.includes('evil'))
      .slice(0, 3))
      t.diagnostic(JSON.stringify(line).slice(0, 300));
    assert.deepEqual(problems, []);
  },
);
