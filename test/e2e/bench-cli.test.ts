// `skiff bench` as a user runs it, against a real `skiff serve` on a free port with a tiny fixture model:
// the JSON report's structure and sanity, v2 random tensors, the engine-alone figure, and failures counted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureModel, testImage } from '../helpers/paths.js';
import { grpcPortOf, runCli, startCli } from '../helpers/run-cli.js';
import type { ServingCli } from '../helpers/run-cli.js';

interface Step {
  label: string;
  concurrency?: number;
  ok: number;
  errors: number;
  errorsByStatus: Record<string, { count: number; message: string }>;
  perSecond: number;
  latency: { count: number; p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number };
  engineRatio?: number;
  p50OverEngineMs?: number;
}

interface Report {
  url: string;
  protocol: string;
  steps: Step[];
  ok: number;
  errors: number;
  engine?: { threads: number; runs: number; perSecond: number; latency: { p50Ms: number } };
}

const MODEL = fixtureModel('tiny-color/model.onnx');

/** `skiff serve` of the tiny fixture model on free ports (gRPC too), and its gRPC endpoint. */
async function serveTinyColor(...extra: string[]): Promise<{ server: ServingCli; grpcUrl: string }> {
  const server = await startCli([
    '--model',
    MODEL,
    '--labels',
    fixtureModel('tiny-color/labels.txt'),
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--no-access-log',
    ...extra,
  ]);
  return { server, grpcUrl: `grpc://127.0.0.1:${grpcPortOf(server.stderr()) ?? 'none'}` };
}

function assertHealthy(step: Step): void {
  assert.ok(step.perSecond > 0, `${step.label}: req/s ${step.perSecond}`);
  assert.equal(step.errors, 0, JSON.stringify(step.errorsByStatus));
  assert.equal(step.latency.count, step.ok);
  const { p50Ms, p90Ms, p99Ms, maxMs } = step.latency;
  assert.ok(p50Ms > 0 && p50Ms <= p90Ms && p90Ms <= p99Ms && p99Ms <= maxMs, JSON.stringify(step.latency));
}

describe('skiff bench against a real server', () => {
  let server: ServingCli;

  before(async () => {
    ({ server } = await serveTinyColor());
  });
  after(async () => {
    await server.stop();
  });

  const bench = (...args: string[]): ReturnType<typeof runCli> =>
    runCli(['bench', '--url', server.url, '--warmup', '0.3', ...args]);

  test('--json at c=1,2 with an image: one step per level, req/s > 0, no errors, p50 <= p99 <= max', async () => {
    const result = await bench('--json', '-c', '1,2', '-d', '2', '--image', testImage('hotdog.jpg'));
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '', 'no progress line when stderr is not a terminal');
    const report = JSON.parse(result.stdout) as Report;
    assert.equal(report.protocol, 'predict');
    assert.deepEqual(
      report.steps.map((s) => [s.label, s.concurrency]),
      [
        ['c=1', 1],
        ['c=2', 2],
      ],
    );
    report.steps.forEach(assertHealthy);
    assert.equal(
      report.ok,
      report.steps.reduce((n, s) => n + s.ok, 0),
    );
    assert.equal(report.engine, undefined);
  });

  test('--protocol v2: random tensors from the model metadata, binary and JSON, as a table', async () => {
    for (const binary of ['--binary-data', '--no-binary-data']) {
      const result = await bench('--protocol', 'v2', '--model', 'tiny-color', '-c', '2', '-d', '1', binary);
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stdout,
        new RegExp(
          `POST /v2/models/tiny-color/infer, random input FP32 \\[1,3,8,8\\] as ${binary === '--binary-data' ? 'binary' : 'JSON'}`,
        ),
      );
      const row = /^c=2\s+([\d.]+)\s+([\d.]+)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+(\d+)\s+(\d+)$/m.exec(
        result.stdout,
      );
      assert.ok(row !== null, result.stdout);
      assert.ok(Number(row[1]) > 0 && Number(row[3]) > 0);
      assert.equal(row[4], '0');
    }
  });

  test('--protocol v2 without --model on a one-model server: the model comes from GET /v1/models', async () => {
    const result = await bench('--protocol', 'v2', '-c', '1', '-d', '1');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /POST \/v2\/models\/tiny-color\/infer/);
  });

  test('--model-file: the engine alone in the same run, and each step its ratio to it', async () => {
    const result = await bench('--json', '-c', '1', '-d', '1', '--model-file', MODEL, '--threads', '1');
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as Report;
    const { engine, steps } = report;
    assert.ok(engine !== undefined);
    assert.equal(engine.threads, 1);
    assert.ok(engine.perSecond > 0 && engine.runs > 0);
    const [step] = steps as [Step];
    assertHealthy(step);
    assert.ok(Math.abs((step.engineRatio ?? NaN) - step.perSecond / engine.perSecond) < 1e-9);
    assert.ok(Number.isFinite(step.p50OverEngineMs));
  });

  test('--rate: an open loop sends the arrivals it was asked for', async () => {
    const result = await bench('--json', '--rate', '40', '-n', '20');
    assert.equal(result.code, 0, result.stderr);
    const [step] = (JSON.parse(result.stdout) as Report).steps as [Step & { dropped: number; late: number }];
    assert.equal(step.label, 'rate=40/s');
    assert.equal(step.ok + step.errors + step.dropped, 20);
    assertHealthy(step);
  });

  test('a wrong model name: every request counted as an error with its status and message, exit code 2', async () => {
    const result = await bench('-c', '1,2', '-n', '6', '--model', 'no-such-model');
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stdout, /^c=1\s.*\s0\s+6$/m);
    assert.match(result.stdout, /^c=2: 6 x HTTP 404: no model named "no-such-model"/m);
  });
});

describe('skiff bench --protocol grpc against a real server', () => {
  let server: ServingCli;
  let grpcUrl: string;

  before(async () => {
    ({ server, grpcUrl } = await serveTinyColor());
  });
  after(async () => {
    await server.stop();
  });

  test('ModelInfer with raw tensors from ModelMetadata: one step per level, no errors', async () => {
    const result = await runCli([
      'bench',
      '--protocol',
      'grpc',
      '--url',
      grpcUrl,
      '--model',
      'tiny-color',
      '--json',
      '-c',
      '1,2',
      '-n',
      '30',
      '--warmup',
      '0.3',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as Report & { sending: string };
    assert.equal(report.protocol, 'grpc');
    assert.match(
      report.sending,
      /^gRPC ModelInfer tiny-color at 127\.0\.0\.1:\d+, random input FP32 \[1,3,8,8\] as raw_input_contents/,
    );
    assert.deepEqual(
      report.steps.map((s) => [s.label, s.ok]),
      [
        ['c=1', 30],
        ['c=2', 30],
      ],
    );
    report.steps.forEach(assertHealthy);
  });

  test('a model the server does not have, or none named on a one-model server: exit 1 with the reason', async () => {
    const unknown = await runCli([
      'bench',
      '--protocol',
      'grpc',
      '--url',
      grpcUrl,
      '--model',
      'nope',
      '-n',
      '1',
    ]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /cannot prepare requests for grpc:.*NOT_FOUND: no model named "nope"/);
    const unnamed = await runCli(['bench', '--protocol', 'grpc', '--url', grpcUrl, '-n', '1']);
    assert.equal(unnamed.code, 1);
    assert.match(unnamed.stderr, /--protocol grpc needs --model <name> \(the server lists no models/);
  });

  test('without --url: exit 1, as the default URL is the HTTP port', async () => {
    const result = await runCli(['bench', '--protocol', 'grpc', '--model', 'tiny-color', '-n', '1']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /--protocol grpc needs --url with the server's gRPC port/);
  });
});

describe('skiff bench against a server started with --auth-token', () => {
  const TOKEN = 'bench-token-0123456789';
  let server: ServingCli;
  let grpcUrl: string;

  before(async () => {
    ({ server, grpcUrl } = await serveTinyColor('--auth-token', TOKEN));
  });
  after(async () => {
    await server.stop();
  });

  test('--auth-token: every request carries it, REST and gRPC; without it, 401s and UNAUTHENTICATED', async () => {
    const common = ['--model', 'tiny-color', '-c', '1', '-n', '5', '--warmup', '0'];
    const rest = await runCli([
      'bench',
      '--url',
      server.url,
      '--protocol',
      'v2',
      '--auth-token',
      TOKEN,
      ...common,
    ]);
    assert.equal(rest.code, 0, rest.stderr);
    assert.match(rest.stdout, /^c=1\s.*\s5\s+0$/m);
    const grpc = await runCli([
      'bench',
      '--url',
      grpcUrl,
      '--protocol',
      'grpc',
      '--auth-token',
      TOKEN,
      ...common,
    ]);
    assert.equal(grpc.code, 0, grpc.stderr);
    assert.match(grpc.stdout, /^c=1\s.*\s5\s+0$/m);

    const refused = await runCli(['bench', '--url', server.url, '--protocol', 'predict', ...common]);
    assert.equal(refused.code, 2);
    assert.match(refused.stdout, /^c=1: 5 x HTTP 401: /m);
    const unauthenticated = await runCli(['bench', '--url', grpcUrl, '--protocol', 'grpc', ...common]);
    assert.equal(unauthenticated.code, 1);
    assert.match(unauthenticated.stderr, /cannot prepare requests for grpc:.*UNAUTHENTICATED/);
  });
});

describe('skiff bench without a server', () => {
  test('nothing listening: every request fails with no answer, exit code 2', async () => {
    const result = await runCli([
      'bench',
      '--url',
      'http://127.0.0.1:9',
      '-c',
      '1',
      '-n',
      '3',
      '--warmup',
      '0',
    ]);
    assert.equal(result.code, 2);
    assert.match(result.stdout, /c=1: 3 x no answer: .*ECONNREFUSED/);
  });

  test('contradictory options: one line, exit code 1', async () => {
    const result = await runCli(['bench', '-c', '1', '--rate', '5']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^skiff: error: give either --concurrency .* or --rate .*, not both/);
  });
});
