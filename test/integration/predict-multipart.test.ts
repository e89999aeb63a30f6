// Multipart uploads to /predict on the real server: every byte of the body counts against --max-body-bytes,
// preamble and epilogue included, and the uploads real clients send still classify.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import type { RunningServer } from '../../src/server.js';
import { fixtureModel } from '../helpers/paths.js';
import { postEarlyAnswer, postImage, startTestServer } from '../helpers/test-server.js';

const MAX_BODY_BYTES = 1 << 20;
const BOUNDARY = 'skiff-test-boundary';
const CONTENT_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;
const hasCurl = spawnSync('sh', ['-c', 'command -v curl']).status === 0;

function form(image: Buffer, preamble = Buffer.alloc(0), epilogue = Buffer.alloc(0)): Buffer {
  return Buffer.concat([
    preamble,
    Buffer.from(
      `${preamble.length > 0 ? '\r\n' : ''}--${BOUNDARY}\r\n` +
        'Content-Disposition: form-data; name="image"; filename="red.jpg"\r\nContent-Type: image/jpeg\r\n\r\n',
    ),
    image,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
    epilogue,
  ]);
}

interface Answer {
  readonly status: number;
  readonly body: { success?: boolean; error?: string; predictions?: { label: string }[] };
}

async function post(url: string, body: Buffer, chunked: boolean): Promise<Answer> {
  const { status, text } = await postEarlyAnswer(url, body, { 'content-type': CONTENT_TYPE }, chunked);
  return { status, body: JSON.parse(text) as Answer['body'] };
}

describe('/predict multipart on the real server', () => {
  let server: RunningServer;
  let red: Buffer;
  before(async () => {
    server = await startTestServer({
      model: fixtureModel('tiny-color/model.onnx'),
      labels: fixtureModel('tiny-color/labels.txt'),
      maxBodyBytes: MAX_BODY_BYTES,
    });
    red = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#ff0000' } })
      .jpeg()
      .toBuffer();
  });
  after(async () => {
    await server.close();
  });

  const url = (): string => `${server.url}/predict`;

  for (const chunked of [false, true]) {
    test(`a 5 MB preamble over a 1 MB --max-body-bytes is 413 (${chunked ? 'chunked' : 'Content-Length'})`, async () => {
      const body = form(red, Buffer.alloc(5 * 1024 * 1024, 'p'));
      const answer = await post(url(), body, chunked);
      assert.equal(answer.status, 413, JSON.stringify(answer.body));
      assert.deepEqual(answer.body, {
        success: false,
        error: 'the request body is larger than the limit (--max-body-bytes)',
      });
    });

    test(`so is a 5 MB epilogue after a legal form (${chunked ? 'chunked' : 'Content-Length'})`, async () => {
      const answer = await post(url(), form(red, undefined, Buffer.alloc(5 * 1024 * 1024, 'e')), chunked);
      assert.equal(answer.status, 413, JSON.stringify(answer.body));
    });
  }

  test('a legal upload with a preamble and an epilogue, the whole body just under the limit, classifies', async () => {
    const small = form(red, Buffer.from('preamble'), Buffer.from('epilogue'));
    const padding = Buffer.alloc(MAX_BODY_BYTES - small.length - 2, 'p');
    const body = form(red, Buffer.concat([Buffer.from('preamble'), padding]), Buffer.from('epilogue'));
    assert.ok(body.length <= MAX_BODY_BYTES);
    for (const chunked of [false, true]) {
      const answer = await post(url(), body, chunked);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.success, true);
      assert.equal(answer.body.predictions?.[0]?.label, 'red');
    }
  });

  test("Node's FormData (the web page sends a browser's FormData the same way) classifies", async () => {
    const response = await postImage(url(), red, 'red.jpg');
    const body = (await response.json()) as Answer['body'];
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.predictions?.[0]?.label, 'red');
  });

  test(
    'curl -F image=@red.jpg classifies',
    { skip: hasCurl ? false : 'no curl on this machine' },
    async () => {
      const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'skiff-curl-')), 'red.jpg');
      writeFileSync(file, red);
      const { stdout } = await promisify(execFile)('curl', ['-sS', '-F', `image=@${file}`, url()]);
      const body = JSON.parse(stdout) as Answer['body'];
      assert.equal(body.success, true, stdout);
      assert.equal(body.predictions?.[0]?.label, 'red');
    },
  );
});
