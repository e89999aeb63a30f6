// The built CLI as a user runs it: start-up errors are one clear line and exit 1; a real serve session
// downloads its model once, answers the seed's curl, reuses the cache offline, and exits 0 on SIGTERM.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  copyFileSync,
  createReadStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { IMAGENET_LABELS, defaultModel, fixtureModel, repoRoot, testImage } from '../helpers/paths.js';
import { runCli, startCli } from '../helpers/run-cli.js';
import type { ServingCli } from '../helpers/run-cli.js';
import { postImage } from '../helpers/test-server.js';

const MODEL = defaultModel();
const MODEL_SHA256 = 'de0be279154ebd0b40f33b7bc0d1390cb353725ee14f4508d0b37ef8dc224888';
const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'skiff-e2e-'));

function assertOneLineError(stderr: string, fragment: RegExp): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0] ?? '', /^skiff: error: /);
  assert.match(lines[0] ?? '', fragment);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

describe('start-up errors: one line, exit code 1', () => {
  test('a missing model file', async () => {
    const result = await runCli(['serve', '--model', '/nonexistent/model.onnx', '--port', '0']);
    assert.equal(result.code, 1);
    assertOneLineError(result.stderr, /\/nonexistent\/model\.onnx/);
  });

  test('a mistyped zoo name lists the zoo', async () => {
    const result = await runCli(['serve', '--model', 'resnet5', '--port', '0']);
    assert.equal(result.code, 1);
    assertOneLineError(result.stderr, /resnet50.*mobilenetv2/);
  });

  test('--verbose adds the stack trace', async () => {
    const result = await runCli(['serve', '--model', '/nonexistent/model.onnx', '--verbose']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /\n\s+at /);
  });

  test('a model file whose sha256 does not match', async () => {
    const result = await runCli(['serve', '--model', MODEL, '--model-sha256', '0'.repeat(64), '--port', '0']);
    assert.equal(result.code, 1);
    assertOneLineError(result.stderr, /sha256/i);
  });

  test('a file that is not an ONNX model', async () => {
    const result = await runCli([
      'serve',
      '--model',
      fixtureModel('broken/model.onnx'),
      '--host',
      '127.0.0.1',
      '--port',
      '0',
    ]);
    assert.equal(result.code, 1);
    assertOneLineError(
      result.stderr
        .split('\n')
        .filter((l) => !l.startsWith('{'))
        .join('\n'),
      /could not be loaded/,
    );
  });

  test('an unreadable model config', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'model.json'), '{ not json');
    const result = await runCli([
      'serve',
      '--model',
      MODEL,
      '--config',
      path.join(dir, 'model.json'),
      '--port',
      '0',
    ]);
    assert.equal(result.code, 1);
    assertOneLineError(result.stderr, /model\.json is not valid JSON/);
  });

  test('a model config with an unknown key', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ input: { colour: 'RGB' } }));
    const result = await runCli([
      'serve',
      '--model',
      MODEL,
      '--config',
      path.join(dir, 'model.json'),
      '--port',
      '0',
    ]);
    assert.equal(result.code, 1);
    assertOneLineError(result.stderr, /colour/);
  });

  test('labels that do not fit the model', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'labels.txt'), 'cat\ndog\n');
    const result = await runCli([
      'serve',
      '--model',
      MODEL,
      '--labels',
      path.join(dir, 'labels.txt'),
      '--host',
      '127.0.0.1',
      '--port',
      '0',
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /skiff: error: the labels list 2 classes but the model outputs 1000/);
  });

  test('a port already in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const result = await runCli(['serve', '--model', MODEL, '--host', '127.0.0.1', '--port', String(port)]);
      assert.equal(result.code, 1);
      assertOneLineError(result.stderr, new RegExp(`port ${port} on 127.0.0.1 is already in use`));
    } finally {
      blocker.close();
    }
  });

  test('a bad value names where it came from', async () => {
    const fromEnv = await runCli(['serve', '--model', MODEL], { env: { SKIFF_PORT: 'abc' } });
    assert.equal(fromEnv.code, 1);
    assertOneLineError(fromEnv.stderr, /environment variable SKIFF_PORT: expected a whole number, got "abc"/);
    const fromFlag = await runCli(['serve', '--model', MODEL, '--workers', '0']);
    assertOneLineError(fromFlag.stderr, /option --workers/);
    const unknown = await runCli(['serve', '--modle', MODEL]);
    assert.equal(unknown.code, 1);
    assertOneLineError(unknown.stderr, /--modle.*see --help/);
  });
});

test('--help lists every option with its env var; unknown commands fail', async () => {
  const help = await runCli(['serve', '--help']);
  assert.equal(help.code, 0);
  for (const fragment of [
    '--model',
    'SKIFF_MODEL',
    '--port',
    'SKIFF_PORT',
    'default 5000',
    '--top-k',
    '--workers',
    '--threads-per-worker',
    '--labels',
    '--name',
    '--config',
  ]) {
    assert.ok(help.stdout.includes(fragment), fragment);
  }
  const top = await runCli(['--help']);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /serve/);
  const unknown = await runCli(['fly']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /unknown command "fly"/);
});

describe('serving a model downloaded over HTTP', () => {
  let origin: http.Server;
  let originUrl = '';
  const requests: string[] = [];
  const cacheDir = tmp();

  // The committed models folder, served as a plain web server would.
  const modelsDir = path.join(repoRoot(), 'models');

  before(async () => {
    origin = http.createServer((request, response) => {
      requests.push(request.url ?? '');
      const file = path.join(modelsDir, decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
      if (!file.startsWith(modelsDir)) {
        response.writeHead(404).end();
        return;
      }
      try {
        response.writeHead(200, { 'content-length': statSync(file).size });
      } catch {
        response.writeHead(404).end();
        return;
      }
      createReadStream(file).pipe(response);
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  });
  after(() => {
    origin.close();
    origin.closeAllConnections();
  });

  test('first run downloads and verifies, answers /predict, and SIGTERM exits 0', async () => {
    const server = await startCli(
      [
        '--model',
        `${originUrl}/mobilenetv2-int8/model.onnx`,
        '--model-sha256',
        MODEL_SHA256,
        '--labels',
        IMAGENET_LABELS(),
        '--host',
        '127.0.0.1',
        '--port',
        '0',
      ],
      { env: { SKIFF_CACHE_DIR: cacheDir } },
    );
    let code: number | null;
    try {
      assert.equal(requests.length, 1);
      assert.equal((await fetch(`${server.url}/v2/health/live`)).status, 200);
      assert.equal((await fetch(`${server.url}/v2/health/ready`)).status, 200);
      const response = await postImage(
        `${server.url}/predict`,
        readFileSync(testImage('hotdog.jpg')),
        'hotdog.jpeg',
      );
      const body = (await response.json()) as { predictions: { label: string }[] };
      assert.equal(body.predictions[0]?.label, 'hotdog');
      // The access line is written after the answer is sent; give it a moment to arrive.
      for (let i = 0; i < 50 && !server.stderr().includes('"path":"/predict"'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.match(
        server.stderr(),
        /"requestId":"[0-9a-f-]{36}","method":"POST","path":"\/predict","status":200,"ms":[\d.]+,.*"msg":"request"/,
      );
      assert.match(
        server.stderr(),
        /ready in [\d.]+ s: process start to config \d+ ms, model fetch \d+ ms, session create \d+ ms, warm-up \d+ ms/,
      );
    } finally {
      code = await server.stop();
    }
    // Checked after the finally, so a failure above is what the test reports.
    assert.equal(code, 0);
  });

  test('second run uses the cache with the origin stopped', async () => {
    origin.close();
    origin.closeAllConnections();
    const before = requests.length;
    const server = await startCli(
      [
        '--model',
        `${originUrl}/mobilenetv2-int8/model.onnx`,
        '--model-sha256',
        MODEL_SHA256,
        '--labels',
        IMAGENET_LABELS(),
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--name',
        'cats',
      ],
      { env: { SKIFF_CACHE_DIR: cacheDir } },
    );
    let code: number | null;
    try {
      assert.equal(requests.length, before);
      const response = await postImage(
        `${server.url}/predict?model=cats`,
        readFileSync(testImage('egyptian_cat.png')),
        'cat.png',
        'image/png',
      );
      const body = (await response.json()) as { predictions: { label: string }[] };
      assert.equal(body.predictions[0]?.label, 'Egyptian_cat');
    } finally {
      code = await server.stop();
    }
    assert.equal(code, 0);
  });
});

test('while the model downloads the server is live but not ready, and says why; then ready', async () => {
  const dir = tmp();
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const origin = http.createServer((_request, response) => {
    void gate.then(() => {
      response.writeHead(200, { 'content-length': statSync(MODEL).size });
      createReadStream(MODEL).pipe(response);
    });
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  const modelUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}/m/model.onnx`;
  let server: ServingCli;
  try {
    server = await startCli(
      ['--model', modelUrl, '--labels', IMAGENET_LABELS(), '--host', '127.0.0.1', '--port', '0'],
      { env: { SKIFF_CACHE_DIR: dir }, untilListening: true },
    );
  } catch (error) {
    origin.close();
    origin.closeAllConnections();
    throw error;
  }
  let code: number | null;
  try {
    assert.equal((await fetch(`${server.url}/v2/health/live`)).status, 200);
    const notReady = await fetch(`${server.url}/v2/health/ready`);
    assert.equal(notReady.status, 400);
    assert.match(
      ((await notReady.json()) as { error: string }).error,
      /no model is loaded yet: fetching model http:\/\/127\.0\.0\.1:\d+\/m\/model\.onnx/,
    );
    const early = await postImage(`${server.url}/predict`, readFileSync(testImage('hotdog.jpg')));
    assert.equal(early.status, 404);
    release();
    for (let i = 0; i < 100 && (await fetch(`${server.url}/v2/health/ready`)).status !== 200; i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal((await fetch(`${server.url}/v2/health/ready`)).status, 200);
    assert.equal(
      (await postImage(`${server.url}/predict`, readFileSync(testImage('hotdog.jpg')))).status,
      200,
    );
  } finally {
    // Whatever failed above, none of this may be skipped: an origin left listening with the download held
    // at the gate keeps this test file's process alive for ever. (It did, when a missing photo failed the
    // test before release() and an exit-code assertion here threw before the origin was closed.)
    release();
    code = await server.stop();
    origin.close();
    origin.closeAllConnections();
  }
  assert.equal(code, 0);
});

test('a skiff.yaml in the working directory configures serve; flags win over it', async () => {
  const dir = tmp();
  writeFileSync(
    path.join(dir, 'skiff.yaml'),
    `serve:\n  model: ${MODEL}\n  labels: ${IMAGENET_LABELS()}\n  host: 127.0.0.1\n  port: 0\n  topK: 2\n`,
  );
  const server = await startCli(['--top-k', '3'], { cwd: dir });
  let code: number | null;
  try {
    const response = await postImage(`${server.url}/predict`, readFileSync(testImage('macaw.jpg')));
    const body = (await response.json()) as { predictions: { label: string }[] };
    assert.equal(body.predictions.length, 3);
    assert.equal(body.predictions[0]?.label, 'macaw');
  } finally {
    code = await server.stop();
  }
  assert.equal(code, 0);
});

test('skiff models lists a repository: versions, inputs, outputs and what each model expects', async () => {
  const root = tmp();
  mkdirSync(path.join(root, 'linear', '1'), { recursive: true });
  mkdirSync(path.join(root, 'linear', '2'), { recursive: true });
  copyFileSync(fixtureModel('tabular-linear/model.onnx'), path.join(root, 'linear', '1', 'model.onnx'));
  copyFileSync(fixtureModel('tabular-linear/model.onnx'), path.join(root, 'linear', '2', 'model.onnx'));
  mkdirSync(path.join(root, 'imagenet'));
  copyFileSync(MODEL, path.join(root, 'imagenet', 'model.onnx'));
  copyFileSync(IMAGENET_LABELS(), path.join(root, 'imagenet', 'labels.txt'));
  const json = await runCli(['models', '--model-repository', root, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const rows = JSON.parse(json.stdout) as {
    name: string;
    versions: string[];
    inputs: string[];
    expects: string;
  }[];
  assert.deepEqual(
    rows.map((r) => [r.name, r.versions, r.inputs]),
    [
      ['imagenet', ['1'], ['input FP32 [-1,3,224,224]']],
      ['linear', ['2'], ['X FP32 [-1,4]']],
    ],
  );
  assert.match(
    rows[0]?.expects ?? '',
    /^image: RGB NCHW float32 224x224, shorter side 256 \+ centre crop.*1000 labels$/,
  );
  const table = await runCli(['models', '--model-repository', root]);
  assert.match(table.stdout, /^MODEL\s+VERSIONS\s+INPUTS\s+OUTPUTS\s+EXPECTS\n/);
  const missing = await runCli(['models']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /--model-repository/);
});
