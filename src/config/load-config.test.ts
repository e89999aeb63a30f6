import { execFileSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import type { ConfigSources } from './load-config.js';
import type { ServeConfig } from './serve-options.js';
import { loadConfig, readProjectFile } from './load-config.js';
import { SERVE_OPTIONS } from './serve-options.js';

const FILE = '/project/skiff.yaml';

function load(sources: Partial<ConfigSources>): Readonly<ServeConfig> {
  return loadConfig(SERVE_OPTIONS, { flags: {}, env: {}, ...sources });
}

function file(section: Record<string, unknown>): ConfigSources['file'] {
  return { path: FILE, section };
}

describe('loadConfig: defaults and precedence', () => {
  test('with no sources every option has its default and unset options are absent', () => {
    assert.deepEqual(load({}), {
      model: 'mobilenetv2-int8',
      repositoryApi: false,
      strictReadiness: true,
      host: '0.0.0.0',
      port: 5000,
      grpcPort: 8081,
      topK: 5,
      workers: 1,
      threadsPerWorker: availableParallelism(),
      maxQueueSize: 64,
      maxBodyBytes: 20 * 1024 * 1024,
      maxImagePixels: 40_000_000,
      maxTensorElements: 2 ** 23,
      maxRequestElements: 2 ** 24,
      maxBytesElements: 65_536,
      maxDecodePixels: 64_000_000,
      maxResponseBytes: 64 * 1024 * 1024,
      maxInstances: 64,
      maxJsonDepth: 32,
      decodeMemoryMb: 256,
      maxUrlBytes: 8192,
      maxHeaderBytes: 16_384,
      maxPipelinedRequests: 8,
      grpcMaxConcurrentStreams: 32,
      requestTimeoutMs: 60_000,
      headersTimeoutMs: 10_000,
      bodyTimeoutMs: 30_000,
      modelLoadTimeoutMs: 300_000,
      drainDelayMs: 5000,
      shutdownTimeoutMs: 20_000,
      accessLog: true,
      logFormat: 'auto',
      graphCache: true,
      ui: true,
      verbose: false,
    });
  });

  test('flags > environment > file > default, for each option on its own', () => {
    const flags = { port: '7000' };
    const env = { SKIFF_PORT: '6000', SKIFF_WORKERS: '3' };
    const section = { port: 5500, workers: 2, host: '127.0.0.1' };
    const config = load({ flags, env, file: file(section) });
    assert.equal(config.port, 7000);
    assert.equal(config.workers, 3);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.topK, 5);

    assert.equal(load({ env, file: file(section) }).port, 6000);
    assert.equal(load({ file: file(section) }).port, 5500);
  });

  test('an empty environment variable counts as unset; an undefined flag too', () => {
    const config = load({ flags: { port: undefined }, env: { SKIFF_PORT: '' }, file: file({ port: 5500 }) });
    assert.equal(config.port, 5500);
  });

  test('environment variable names are SKIFF_ plus the key in upper snake case', () => {
    const config = load({
      env: {
        SKIFF_MODEL: './model.onnx',
        SKIFF_MODEL_SHA256: 'a'.repeat(64),
        SKIFF_TOP_K: '3',
        SKIFF_THREADS_PER_WORKER: '2',
        SKIFF_MAX_QUEUE_SIZE: '0',
        SKIFF_MAX_BODY_BYTES: '1024',
        SKIFF_MAX_IMAGE_PIXELS: '100',
        SKIFF_MAX_TENSOR_ELEMENTS: '5000',
        SKIFF_MAX_REQUEST_ELEMENTS: '6000',
        SKIFF_MAX_BYTES_ELEMENTS: '70',
        SKIFF_MAX_DECODE_PIXELS: '200',
        SKIFF_MAX_RESPONSE_BYTES: '4096',
        SKIFF_MAX_INSTANCES: '2',
        SKIFF_MAX_JSON_DEPTH: '8',
        SKIFF_DECODE_MEMORY_MB: '64',
        SKIFF_MAX_URL_BYTES: '512',
        SKIFF_MAX_HEADER_BYTES: '2048',
        SKIFF_MAX_PIPELINED_REQUESTS: '1',
        SKIFF_GRPC_MAX_CONCURRENT_STREAMS: '4',
        SKIFF_CACHE_DIR: '/cache',
        SKIFF_ZOO_BASE_URL: 'http://mirror.local/zoo/',
        SKIFF_NAME: 'resnet.v1',
        SKIFF_LABELS: 'labels.txt',
        SKIFF_CONFIG: 'model.json',
        SKIFF_HOST: '::',
        SKIFF_VERBOSE: 'true',
        SKIFF_PORT: '0',
        SKIFF_WORKERS: '4',
        SKIFF_GRPC_PORT: '-1',
        SKIFF_MODEL_REPOSITORY: '/models',
        SKIFF_REQUEST_TIMEOUT_MS: '100',
        SKIFF_HEADERS_TIMEOUT_MS: '2000',
        SKIFF_BODY_TIMEOUT_MS: '3000',
        SKIFF_MODEL_LOAD_TIMEOUT_MS: '5000',
        SKIFF_DRAIN_DELAY_MS: '0',
        SKIFF_SHUTDOWN_TIMEOUT_MS: '4000',
        SKIFF_ACCESS_LOG: 'off',
        SKIFF_AUTH_TOKEN: 'a-token-of-16-chars',
        SKIFF_REPOSITORY_API: 'yes',
        SKIFF_STRICT_READINESS: 'no',
        SKIFF_LOG_LEVEL: 'warn',
        SKIFF_LOG_FORMAT: 'json',
        SKIFF_OTLP_ENDPOINT: 'http://collector:4318',
        SKIFF_OTLP_SERVICE_NAME: 'classifier',
        SKIFF_UI: 'off',
        SKIFF_UI_SAMPLES: '/samples',
        SKIFF_GRAPH_CACHE: 'no',
      },
    });
    assert.deepEqual(config, {
      model: './model.onnx',
      requestTimeoutMs: 100,
      headersTimeoutMs: 2000,
      bodyTimeoutMs: 3000,
      modelLoadTimeoutMs: 5000,
      drainDelayMs: 0,
      shutdownTimeoutMs: 4000,
      accessLog: false,
      graphCache: false,
      ui: false,
      uiSamples: '/samples',
      authToken: 'a-token-of-16-chars',
      modelRepository: '/models',
      repositoryApi: true,
      strictReadiness: false,
      modelSha256: 'a'.repeat(64),
      labels: 'labels.txt',
      name: 'resnet.v1',
      config: 'model.json',
      host: '::',
      port: 0,
      grpcPort: -1,
      topK: 3,
      workers: 4,
      threadsPerWorker: 2,
      maxQueueSize: 0,
      maxBodyBytes: 1024,
      maxImagePixels: 100,
      maxTensorElements: 5000,
      maxRequestElements: 6000,
      maxBytesElements: 70,
      maxDecodePixels: 200,
      maxResponseBytes: 4096,
      maxInstances: 2,
      maxJsonDepth: 8,
      decodeMemoryMb: 64,
      maxUrlBytes: 512,
      maxHeaderBytes: 2048,
      maxPipelinedRequests: 1,
      grpcMaxConcurrentStreams: 4,
      cacheDir: '/cache',
      zooBaseUrl: 'http://mirror.local/zoo/',
      logLevel: 'warn',
      logFormat: 'json',
      otlpEndpoint: 'http://collector:4318',
      otlpServiceName: 'classifier',
      verbose: true,
    });
  });

  test('the result is frozen', () => {
    const config = load({});
    assert.ok(Object.isFrozen(config));
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
  });
});

describe('loadConfig: coercion', () => {
  test('whole numbers from strings, with surrounding spaces allowed', () => {
    assert.equal(load({ flags: { port: '8080' } }).port, 8080);
    assert.equal(load({ env: { SKIFF_PORT: ' 8081 ' } }).port, 8081);
  });

  test('booleans: 1/true/yes/on and 0/false/no/off in any case; a boolean flag as it is', () => {
    for (const yes of ['1', 'true', 'TRUE', 'yes', 'On'])
      assert.equal(load({ env: { SKIFF_VERBOSE: yes } }).verbose, true, yes);
    for (const no of ['0', 'false', 'False', 'no', 'OFF'])
      assert.equal(load({ env: { SKIFF_VERBOSE: no } }).verbose, false, no);
    assert.equal(load({ flags: { verbose: true }, env: { SKIFF_VERBOSE: 'false' } }).verbose, true);
  });

  test('values from the file keep their YAML/JSON type', () => {
    const config = load({ file: file({ port: 9000, verbose: true, model: 'squeezenet1.1' }) });
    assert.deepEqual([config.port, config.verbose, config.model], [9000, true, 'squeezenet1.1']);
  });
});

describe('loadConfig: errors name the option and where its value came from', () => {
  const cases: readonly [string, Partial<ConfigSources>, string | RegExp][] = [
    [
      'a flag that is not a number',
      { flags: { port: 'http' } },
      'option --port: expected a whole number, got "http"',
    ],
    [
      'a fractional environment value',
      { env: { SKIFF_PORT: '80.5' } },
      'environment variable SKIFF_PORT: expected a whole number, got "80.5"',
    ],
    [
      'exponent notation',
      { env: { SKIFF_TOP_K: '1e3' } },
      'environment variable SKIFF_TOP_K: expected a whole number, got "1e3"',
    ],
    [
      'a port out of range',
      { env: { SKIFF_PORT: '70000' } },
      'environment variable SKIFF_PORT: Number must be less than or equal to 65535',
    ],
    [
      'a negative flag',
      { flags: { maxQueueSize: '-1' } },
      'option --max-queue-size: Number must be greater than or equal to 0',
    ],
    ['zero workers', { flags: { workers: '0' } }, 'option --workers: Number must be greater than 0'],
    [
      'a model load timeout too short to load anything',
      { flags: { modelLoadTimeoutMs: '10' } },
      'option --model-load-timeout-ms: Number must be greater than or equal to 1000',
    ],
    [
      'a boolean that is neither',
      { env: { SKIFF_VERBOSE: 'maybe' } },
      'environment variable SKIFF_VERBOSE: expected true or false, got "maybe"',
    ],
    ['a bad sha256 flag', { flags: { modelSha256: 'abc' } }, 'option --model-sha256: must be 64 hex digits'],
    [
      'a bad name',
      { env: { SKIFF_NAME: 'my model' } },
      /^environment variable SKIFF_NAME: use letters, digits/,
    ],
    ['a bad URL', { flags: { zooBaseUrl: 'not a url' } }, 'option --zoo-base-url: Invalid url'],
    [
      'a file value of the wrong type',
      { file: file({ port: true }) },
      `${FILE} key "port": Expected number, received boolean`,
    ],
    [
      'a fractional file value',
      { file: file({ workers: 1.5 }) },
      `${FILE} key "workers": Expected integer, received float`,
    ],
    [
      'a file value out of range',
      { file: file({ topK: 1001 }) },
      `${FILE} key "topK": Number must be less than or equal to 1000`,
    ],
    ['an unknown file key', { file: file({ prot: 8080 }) }, `${FILE}: unknown key "prot"`],
    ['a flag name used as a file key', { file: file({ 'top-k': 3 }) }, `${FILE}: unknown key "top-k"`],
  ];
  for (const [title, sources, message] of cases) {
    test(title, () => {
      assert.throws(() => load(sources), { name: 'SkiffError', code: 'SKIFF_CONFIG_INVALID', message });
    });
  }

  test('a bad value from a lower source is never reached when a higher one is set', () => {
    assert.equal(
      load({ flags: { port: '1' }, env: { SKIFF_PORT: 'bad' }, file: file({ port: 'worse' }) }).port,
      1,
    );
  });
});

describe('readProjectFile', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-config-test-'));
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const write = (name: string, text: string): string => {
    const target = path.join(dir, name);
    writeFileSync(target, text);
    return target;
  };

  test('YAML: returns the section, typed as YAML types it', () => {
    const target = write(
      'skiff.yaml',
      'serve:\n  port: 8080\n  verbose: true\n  model: ./model.onnx\nbuild:\n  tag: x\n',
    );
    assert.deepEqual(readProjectFile(target, 'serve'), { port: 8080, verbose: true, model: './model.onnx' });
  });

  test('JSON (by extension): returns the section', () => {
    const target = write('skiff.json', '{"serve": {"port": 8080, "host": "127.0.0.1"}}');
    assert.deepEqual(readProjectFile(target, 'serve'), { port: 8080, host: '127.0.0.1' });
  });

  test('a missing section or an empty file is an empty section', () => {
    assert.deepEqual(readProjectFile(write('other.yaml', 'build:\n  tag: x\n'), 'serve'), {});
    assert.deepEqual(readProjectFile(write('empty.yaml', ''), 'serve'), {});
    assert.deepEqual(readProjectFile(write('comments.yml', '# nothing yet\n'), 'serve'), {});
  });

  test('a missing file is SKIFF_CONFIG_UNREADABLE with the path and the errno code', () => {
    const target = path.join(dir, 'absent.yaml');
    assert.throws(() => readProjectFile(target, 'serve'), {
      code: 'SKIFF_CONFIG_UNREADABLE',
      message: `cannot read ${target}: ENOENT`,
    });
  });

  test('a FIFO or a directory is refused at once, never opened for reading', () => {
    const fifo = path.join(dir, 'skiff-fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    assert.throws(() => readProjectFile(fifo, 'serve'), {
      code: 'SKIFF_CONFIG_UNREADABLE',
      message: `${fifo} is a FIFO, not a regular file`,
    });
    assert.throws(() => readProjectFile(dir, 'serve'), {
      code: 'SKIFF_CONFIG_UNREADABLE',
      message: `${dir} is a directory, not a regular file`,
    });
  });

  test('bad YAML and bad JSON are SKIFF_CONFIG_UNREADABLE naming the format', () => {
    const yaml = write('bad.yaml', 'serve:\n  port: [8080\n');
    assert.throws(() => readProjectFile(yaml, 'serve'), {
      code: 'SKIFF_CONFIG_UNREADABLE',
      message: new RegExp(`^${escapeRegExp(yaml)} is not valid YAML: \\S`),
    });
    const json = write('bad.json', '{"serve": {');
    assert.throws(() => readProjectFile(json, 'serve'), {
      code: 'SKIFF_CONFIG_UNREADABLE',
      message: new RegExp(`^${escapeRegExp(json)} is not valid JSON: \\S`),
    });
  });

  test('a top level that is not a mapping is SKIFF_CONFIG_INVALID', () => {
    for (const [name, text] of [
      ['list.yaml', '- serve\n'],
      ['scalar.yaml', 'just text\n'],
      ['array.json', '[]'],
    ] as const) {
      const target = write(name, text);
      assert.throws(() => readProjectFile(target, 'serve'), {
        code: 'SKIFF_CONFIG_INVALID',
        message: `${target}: expected a mapping at the top level`,
      });
    }
  });

  test('a section that is not a mapping is SKIFF_CONFIG_INVALID', () => {
    for (const [name, text] of [
      ['scalar-section.yaml', 'serve: 5000\n'],
      ['list-section.yaml', 'serve:\n  - port\n'],
      ['null-section.json', '{"serve": null}'],
    ] as const) {
      const target = write(name, text);
      assert.throws(() => readProjectFile(target, 'serve'), {
        code: 'SKIFF_CONFIG_INVALID',
        message: `${target}: "serve" must be a mapping`,
      });
    }
  });

  test('read and loaded together: file values apply and errors name the file path and key', () => {
    const good = write('good.yaml', 'serve:\n  port: 8080\n  workers: 2\n');
    const config = loadConfig(SERVE_OPTIONS, {
      flags: {},
      env: { SKIFF_WORKERS: '3' },
      file: { path: good, section: readProjectFile(good, 'serve') },
    });
    assert.deepEqual([config.port, config.workers], [8080, 3]);

    const bad = write('bad-value.yaml', 'serve:\n  port: eighty\n');
    assert.throws(
      () =>
        loadConfig(SERVE_OPTIONS, {
          flags: {},
          env: {},
          file: { path: bad, section: readProjectFile(bad, 'serve') },
        }),
      { code: 'SKIFF_CONFIG_INVALID', message: `${bad} key "port": expected a whole number, got "eighty"` },
    );
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
