import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { oipInferRequest, oipInputs } from './oip-infer-request.js';
import { randomPng } from './random-png.js';
import { multipartBody } from './multipart-body.js';

test('randomPng: a valid PNG (signature, IHDR, one row filter byte per row), deterministic', () => {
  const png = randomPng(4, 3, 'random');
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(png.toString('latin1', 12, 16), 'IHDR');
  assert.equal(png.readUInt32BE(16), 4);
  assert.equal(png.readUInt32BE(20), 3);
  const idatLength = png.readUInt32BE(33);
  assert.equal(png.toString('latin1', 37, 41), 'IDAT');
  const raw = inflateSync(png.subarray(41, 41 + idatLength));
  assert.equal(raw.length, 3 * (1 + 4 * 3));
  assert.deepEqual([raw[0], raw[13], raw[26]], [0, 0, 0]);
  assert.deepEqual(randomPng(4, 3, 'random'), png);
  assert.ok(
    inflateSync(randomPng(4, 3, 'zero').subarray(41, 41 + randomPng(4, 3, 'zero').readUInt32BE(33))).every(
      (b) => b === 0,
    ),
  );
});

test('oipInferRequest binary: JSON header of the stated length, then little-endian data; -1 becomes 1; outputs asked in binary', () => {
  const inputs = oipInputs({
    inputs: [
      { name: 'x', datatype: 'FP32', shape: [-1, 2, 3] },
      { name: 'n', datatype: 'INT64', shape: [2] },
    ],
  });
  const { body, headers } = oipInferRequest(inputs, 'random', true);
  const headerLength = Number(headers['inference-header-content-length']);
  const header = JSON.parse(body.subarray(0, headerLength).toString()) as {
    inputs: { name: string; shape: number[]; datatype: string; parameters: { binary_data_size: number } }[];
    parameters: { binary_data_output: boolean };
  };
  // perf_analyzer's defaults: binary tensors in, and every output asked for in binary.
  assert.equal(header.parameters.binary_data_output, true);
  assert.deepEqual(
    header.inputs.map((i) => [i.name, i.shape, i.datatype, i.parameters.binary_data_size]),
    [
      ['x', [1, 2, 3], 'FP32', 24],
      ['n', [2], 'INT64', 16],
    ],
  );
  assert.equal(body.length, headerLength + 40);
  for (let i = 0; i < 6; i++) {
    const value = body.readFloatLE(headerLength + i * 4);
    assert.ok(value >= 0 && value < 1);
  }
});

test('oipInferRequest JSON: numbers in row-major order; zero fill; BYTES inputs refused', () => {
  const inputs = oipInputs({ inputs: [{ name: 'x', datatype: 'UINT8', shape: [2, 2] }] });
  const { body, headers } = oipInferRequest(inputs, 'zero', false);
  assert.equal(headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(body.toString()), {
    inputs: [{ name: 'x', shape: [2, 2], datatype: 'UINT8', data: [0, 0, 0, 0] }],
  });
  assert.throws(
    () =>
      oipInferRequest(oipInputs({ inputs: [{ name: 's', datatype: 'BYTES', shape: [1] }] }), 'random', true),
    /only numeric and BOOL/,
  );
  assert.throws(() => oipInputs({ outputs: [] }), /no inputs/);
});

test('multipartBody: one file field framed by a boundary that the content type names', () => {
  const { body, contentType } = multipartBody('image', 'a.jpg', 'image/jpeg', Buffer.from('JPEG'));
  const boundary = /boundary=(.+)$/.exec(contentType)?.[1] ?? '';
  assert.ok(boundary.length > 10);
  assert.equal(
    body.toString(),
    `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\nJPEG\r\n--${boundary}--\r\n`,
  );
});
