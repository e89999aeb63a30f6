import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { BENCH_HELP, benchPlan, readBenchConfig } from './bench.js';

test('defaults: predict to 127.0.0.1:5000, a 1,2,4,8 sweep of 10 s steps after 2 s of warm-up', () => {
  const { help, config } = readBenchConfig([]);
  assert.equal(help, false);
  assert.equal(config.url, 'http://127.0.0.1:5000');
  assert.equal(config.protocol, 'predict');
  assert.deepEqual(config.concurrency, [1, 2, 4, 8]);
  assert.equal(config.threads, availableParallelism());
  assert.deepEqual(benchPlan(config), {
    levels: [1, 2, 4, 8].map((concurrency) => ({ kind: 'concurrency', concurrency })),
    length: { durationMs: 10_000 },
    warmupMs: 2000,
    maxInFlight: 256,
  });
});

test('a rate sweep, fractional seconds, a request count', () => {
  const { config } = readBenchConfig(['--rate', '5, 10,2.5', '--requests', '100', '--warmup', '0']);
  assert.deepEqual(benchPlan(config), {
    levels: [5, 10, 2.5].map((ratePerSecond) => ({ kind: 'rate', ratePerSecond })),
    length: { requests: 100 },
    warmupMs: 0,
    maxInFlight: 256,
  });
  assert.deepEqual(benchPlan(readBenchConfig(['-d', '2.5', '-c', '3']).config).length, { durationMs: 2500 });
});

test('bad values and contradictions are one clear SKIFF_CONFIG_INVALID each', () => {
  const cases: [string[], RegExp][] = [
    [['-c', '0'], /--concurrency: expected whole numbers above 0/],
    [['-c', '1,x'], /--concurrency: expected whole numbers above 0/],
    [['--rate', '-5'], /--rate/],
    [['-d', '0'], /--duration must be above 0/],
    [['-d', 'ten'], /expected --duration as a number/],
    [['--protocol', 'grpc'], /--protocol/],
    [['--url', 'not a url'], /--url/],
    [['-c', '2', '--rate', '5'], /either --concurrency .* or --rate/],
    [['-d', '5', '-n', '10'], /either --duration or --requests/],
    [['--protocol', 'v2', '--image', 'dog.jpg'], /--image goes with --protocol predict/],
    [['--config-file', 'skiff.yaml'], /flags only/],
    [['--bogus'], /bogus/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(
      () => readBenchConfig(argv),
      (error: unknown) =>
        error instanceof Error &&
        (error as { code?: string }).code === 'SKIFF_CONFIG_INVALID' &&
        message.test(error.message),
      argv.join(' '),
    );
  }
});

test("SKIFF_* variables do not reach the benchmark (SKIFF_MODEL is serve's, SKIFF_IMAGE deploy's)", () => {
  const saved = process.env.SKIFF_MODEL;
  process.env.SKIFF_MODEL = './model.onnx';
  try {
    assert.equal(readBenchConfig([]).config.model, undefined);
  } finally {
    if (saved === undefined) delete process.env.SKIFF_MODEL;
    else process.env.SKIFF_MODEL = saved;
  }
});

test('--help is derived from the option table and lists every flag, without env or file keys', () => {
  for (const flag of [
    '--url',
    '--model',
    '--protocol',
    '--image',
    '--input-data',
    '--[no-]binary-data',
    '-c, --concurrency',
    '--rate',
    '--max-in-flight',
    '-d, --duration',
    '-n, --requests',
    '--warmup',
    '--timeout',
    '--model-file',
    '--threads',
    '--json',
  ]) {
    assert.ok(BENCH_HELP.includes(flag), flag);
  }
  assert.doesNotMatch(BENCH_HELP, /SKIFF_|--config-file/);
  assert.deepEqual(readBenchConfig(['--help']).help, true);
});
