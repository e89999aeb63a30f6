import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../core/logger.js';
import { testLimits } from '../../core/testing/test-limits.js';
import { DecodePool } from './decode-pool.js';
import { SkiffError } from '../../core/errors.js';
import { deserializeModelInfer, serializeModelInfer } from '../../../test/helpers/request-bodies.js';

const input = { name: 'x', datatype: 'FP32' as const, shape: [-1, 4] };

describe('DecodePool', () => {
  const pool = new DecodePool({
    limits: testLimits({ maxTensorElements: 2 ** 24, maxRequestElements: 2 ** 24 }),
    logger: silentLogger,
    inlineBelowBytes: 1024,
    memoryMb: 32,
    // One body waits, whatever its size; the next is refused.
    maxWaitingBytes: 1,
  });
  after(() => pool.close());

  test('a large body is decoded in the worker, to the same tensors as inline', async () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => [i, i + 0.5, -i, 1e-3]);
    const body = Buffer.from(JSON.stringify({ X: rows }));
    assert.ok(body.length > 1024);
    const decoded = await pool.decode({ kind: 'rows', body, input });
    assert.deepEqual(decoded.tensor.shape, [20_000, 4]);
    assert.ok(decoded.tensor.data instanceof Float32Array);
    assert.deepEqual([...decoded.tensor.data.slice(4, 8)], [1, 1.5, -1, Math.fround(1e-3)]);
    const small = await pool.decode({ kind: 'rows', body: Buffer.from('{"X": [1, 2, 3, 4]}'), input });
    assert.equal(small.single, true);
  });

  test("the decoders' refusals come back with their codes", async () => {
    const deep = Buffer.from(`{"X": ${'['.repeat(40)}1${']'.repeat(40)}, "pad": "${'p'.repeat(2000)}"}`);
    await assert.rejects(pool.decode({ kind: 'rows', body: deep, input }), {
      code: 'SKIFF_BAD_TENSOR',
      message: /nested too deeply/,
    });
    const notJson = Buffer.from(`{"X": [${'1,'.repeat(2000)}`);
    await assert.rejects(pool.decode({ kind: 'rows', body: notJson, input }), { code: 'SKIFF_BAD_REQUEST' });
  });

  test('a body that needs more heap than the worker has is 413, and the next body is decoded by a new worker', async () => {
    // About 3 million numbers: far more than 32 MB of heap once parsed.
    const huge = Buffer.from(`{"X": [${Array.from({ length: 750_000 }, () => '[1,2,3,4]').join(',')}]}`);
    await assert.rejects(pool.decode({ kind: 'rows', body: huge, input }), {
      code: 'SKIFF_BODY_TOO_LARGE',
      message: /more memory than the decoder may use \(--decode-memory-mb\)/,
    });
    const rows = Array.from({ length: 1000 }, () => [1, 2, 3, 4]);
    const again = await pool.decode({ kind: 'rows', body: Buffer.from(JSON.stringify({ X: rows })), input });
    assert.deepEqual(again.tensor.shape, [1000, 4]);
  });

  test('a ModelInfer message that is mostly raw_input_contents is decoded inline, up to 4 MiB; typed contents go to the worker', async () => {
    pool.useProtobuf(deserializeModelInfer);
    const values = Float32Array.from({ length: 4096 }, (_, i) => i / 7);
    const message = (inputs: object[], raw?: Buffer): Buffer =>
      serializeModelInfer({
        model_name: 'm',
        inputs,
        ...(raw === undefined ? {} : { raw_input_contents: [raw] }),
      });
    const raw = message([{ name: 'x', datatype: 'FP32', shape: [1024, 4] }], Buffer.from(values.buffer));
    const typed = message([
      { name: 'x', datatype: 'FP32', shape: [1024, 4], contents: { fp32_contents: [...values] } },
    ]);
    const huge = message(
      [{ name: 'x', datatype: 'FP32', shape: [1_050_000, 4] }],
      Buffer.alloc(1_050_000 * 16),
    );
    assert.ok(raw.length > 1024 && typed.length > 1024 && huge.length > 4 * 1024 * 1024);
    // The one decoder busy and its one waiting place taken: what is not decoded inline is refused at once.
    const rows = Buffer.from(JSON.stringify({ X: Array.from({ length: 50_000 }, () => [1, 2, 3, 4]) }));
    const busy = [
      pool.decode({ kind: 'rows', body: Buffer.from(rows), input }),
      pool.decode({ kind: 'rows', body: Buffer.from(rows), input }),
    ];
    await assert.rejects(pool.decode({ kind: 'grpc-infer', body: typed }), { code: 'SKIFF_DECODE_BUSY' });
    await assert.rejects(pool.decode({ kind: 'grpc-infer', body: huge }), { code: 'SKIFF_DECODE_BUSY' });
    const decoded = await pool.decode({ kind: 'grpc-infer', body: raw });
    assert.deepEqual([...(decoded.request.inputs.x?.data as Float32Array)], [...values]);
    await Promise.all(busy);
  });

  test('past its waiting bytes, a large body gets a fast SKIFF_DECODE_BUSY', async () => {
    const rows = Buffer.from(JSON.stringify({ X: Array.from({ length: 50_000 }, () => [1, 2, 3, 4]) }));
    const first = pool.decode({ kind: 'rows', body: Buffer.from(rows), input });
    const second = pool.decode({ kind: 'rows', body: Buffer.from(rows), input });
    await assert.rejects(pool.decode({ kind: 'rows', body: Buffer.from(rows), input }), {
      code: 'SKIFF_DECODE_BUSY',
      kind: 'resource_exhausted',
    });
    await Promise.all([first, second]);
  });
});

describe('DecodePool waiting by bytes, and requests that end while they wait', () => {
  const rows = Buffer.from(JSON.stringify({ X: Array.from({ length: 50_000 }, () => [1, 2, 3, 4]) }));
  const pool = new DecodePool({
    limits: testLimits({ maxTensorElements: 2 ** 24, maxRequestElements: 2 ** 24 }),
    logger: silentLogger,
    inlineBelowBytes: 1024,
    memoryMb: 64,
    maxWaitingBytes: 2.5 * rows.length,
  });
  after(() => pool.close());
  const rowsJob = (body: Buffer = rows) => ({ kind: 'rows' as const, body: Buffer.from(body), input });

  test('what waits is bounded by bytes, not by count: two large bodies wait, a third is refused, a small one still fits', async () => {
    const small = Buffer.from(JSON.stringify({ X: Array.from({ length: 5_000 }, () => [1, 2, 3, 4]) }));
    assert.ok(small.length > 1024 && small.length < rows.length / 2);
    const accepted = [pool.decode(rowsJob()), pool.decode(rowsJob()), pool.decode(rowsJob())];
    await assert.rejects(pool.decode(rowsJob()), {
      code: 'SKIFF_DECODE_BUSY',
      message: /2 large bodies \(\d+\.\d MiB\) are already waiting/,
    });
    const fits = pool.decode(rowsJob(small));
    for (const decoded of await Promise.all(accepted)) assert.deepEqual(decoded.tensor.shape, [50_000, 4]);
    assert.deepEqual((await fits).tensor.shape, [5_000, 4]);
  });

  test("a request that ends while its body waits leaves at once with its end's reason, and gives back its bytes", async () => {
    const running = pool.decode(rowsJob());
    const leaving = new AbortController();
    const waiting = pool.decode(rowsJob(), leaving.signal);
    const staying = pool.decode(rowsJob());
    // The waiting bytes are full: a third body is refused until the one that ended leaves.
    await assert.rejects(pool.decode(rowsJob()), { code: 'SKIFF_DECODE_BUSY' });
    leaving.abort(new SkiffError('SKIFF_CANCELLED', 'the client went away: test'));
    await assert.rejects(waiting, { code: 'SKIFF_CANCELLED', message: 'the client went away: test' });
    const next = pool.decode(rowsJob());
    for (const decoded of await Promise.all([running, staying, next]))
      assert.deepEqual(decoded.tensor.shape, [50_000, 4]);
    const ended = new AbortController();
    ended.abort(new SkiffError('SKIFF_TIMEOUT', 'too late'));
    await assert.rejects(pool.decode(rowsJob(), ended.signal), { code: 'SKIFF_TIMEOUT' });
  });
});
