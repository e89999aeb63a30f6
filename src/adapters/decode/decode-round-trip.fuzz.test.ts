// Property-based: requests built from random tensors of every datatype, written the way the official clients
// write them, decode back to exactly those tensors: bit for bit wherever the wire format can say it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { DataType } from '../../core/tensor/data-type.js';
import type { Tensor } from '../../core/tensor/tensor.js';
import { DATA_TYPES } from '../../core/tensor/data-type.js';
import { testLimits } from '../../core/testing/test-limits.js';
import { runDecodeJob } from './decode-job.js';
import type { DecodeJob, JobOf } from './decode-job.js';
import {
  assertSameTensors,
  fuzzRuns,
  namedTensorsArb,
  plain,
  rowTensorsArb,
} from '../../../test/helpers/tensor-arbitraries.js';
import type { FloatStyle } from '../../../test/helpers/request-bodies.js';
import {
  JsonLiteral,
  deserializeModelInfer,
  jsonElements,
  metadataOf,
  modelInferRequest,
  oipBody,
  oipInputsArb,
  oipRequest,
  rowsOf,
  serializeModelInfer,
  v1Columns,
  v1Instances,
  writeJson,
} from '../../../test/helpers/request-bodies.js';
import { skiffErrorMatcher } from '../../../test/helpers/skiff-error-matcher.js';

const limits = testLimits();
const floatStyle = fc.constantFrom<FloatStyle>('double', 'shortest');
const json = (value: unknown): Buffer => Buffer.from(writeJson(value));
const oipJob = (body: Buffer, headerLength: number | undefined): JobOf<'oip'> => ({
  kind: 'oip',
  body,
  model: 'm',
  version: undefined,
  headerLength,
  declared: undefined,
});

/** The largest float32 (its shortest digits, 3.4028235e38, are more than this as a double). */
const FLOAT32_MAX = 3.4028234663852886e38;

function first<T>(items: readonly T[]): T {
  const [item] = items;
  assert.ok(item !== undefined);
  return item;
}

/** Rows show a shape by their nesting: a batch of one or more, and no zero dimension but the last. */
const rowsCanCarry = (shape: readonly number[]): boolean =>
  shape.length > 0 && shape.every((d, i) => d > 0 || (i > 0 && i === shape.length - 1));

describe('OIP REST', () => {
  test('JSON: every datatype, data flat or nested, floats as exact doubles or shortest digits', () => {
    fc.assert(
      fc.property(oipInputsArb(false), floatStyle, (inputs, floats) => {
        const named = inputs.map((i) => i.input);
        const { header, binary } = oipRequest(inputs, floats);
        const { body, headerLength } = oipBody(header, binary);
        const decoded = runDecodeJob(oipJob(body, headerLength), limits, deserializeModelInfer);
        assertSameTensors(decoded.request.inputs, named);
      }),
      fuzzRuns(400),
    );
  });

  test('binary extension: any bits (NaN payloads, infinities, full 64-bit range), mixed with JSON inputs', () => {
    fc.assert(
      fc.property(oipInputsArb(true), (inputs) => {
        const { header, binary } = oipRequest(inputs);
        const { body, headerLength } = oipBody(header, binary);
        const decoded = runDecodeJob(oipJob(body, headerLength), limits, deserializeModelInfer);
        assertSameTensors(
          decoded.request.inputs,
          inputs.map((i) => i.input),
        );
      }),
      fuzzRuns(1000),
    );
  });

  test('FP16 in JSON: every finite half, as its exact value and as its shortest digits, is its own bits', () => {
    const bits = Uint16Array.from({ length: 0x10000 }, (_, i) => i).filter(
      (b) => ((b >> 10) & 0x1f) !== 0x1f,
    );
    const tensor: Tensor = { type: 'FP16', shape: [bits.length], data: bits };
    for (const floats of ['double', 'shortest'] as const) {
      const { header } = oipRequest([{ input: { name: 'h', tensor }, binary: false, nested: false }], floats);
      const decoded = runDecodeJob(oipJob(json(header), undefined), limits, deserializeModelInfer);
      assert.deepEqual(plain(decoded.request.inputs.h ?? tensor), plain(tensor), floats);
    }
  });

  test('FP32 in JSON: the largest float32 written as its shortest digits (3.4028235e38) is that float', () => {
    const body = json({
      inputs: [
        {
          name: 'x',
          datatype: 'FP32',
          shape: [2],
          data: [new JsonLiteral('3.4028235e38'), new JsonLiteral('-3.4028235e+38')],
        },
      ],
    });
    const decoded = runDecodeJob(oipJob(body, undefined), limits, deserializeModelInfer);
    assert.deepEqual(Array.from((decoded.request.inputs.x?.data ?? []) as Float32Array), [
      FLOAT32_MAX,
      -FLOAT32_MAX,
    ]);
  });
});

describe('OIP gRPC, through the real protobuf serializer', () => {
  const typedTypes = DATA_TYPES.filter((t) => t !== 'FP16');
  const infer = (message: object) =>
    runDecodeJob({ kind: 'grpc-infer', body: serializeModelInfer(message) }, limits, deserializeModelInfer);

  test('typed contents: every datatype that has a field, 64-bit integers over their whole range', () => {
    fc.assert(
      fc.property(namedTensorsArb('typed', { types: typedTypes }), (inputs) => {
        assertSameTensors(infer(modelInferRequest(inputs, 'typed')).request.inputs, inputs);
      }),
      fuzzRuns(1000),
    );
  });

  test('raw_input_contents: every datatype, any bits', () => {
    fc.assert(
      fc.property(namedTensorsArb('raw'), (inputs) => {
        assertSameTensors(infer(modelInferRequest(inputs, 'raw')).request.inputs, inputs);
      }),
      fuzzRuns(1000),
    );
  });
});

describe('row formats', () => {
  test('KServe V1 instances: rows of one input, or rows keyed by input name', () => {
    fc.assert(
      fc.property(rowTensorsArb(), fc.boolean(), (inputs, keyed) => {
        const body = json(v1Instances(inputs, keyed));
        const decoded = runDecodeJob(
          { kind: 'v1', body, inputs: metadataOf(inputs) },
          limits,
          deserializeModelInfer,
        );
        assert.equal(decoded.kind, 'tensors');
        assertSameTensors(decoded.inputs, inputs);
      }),
      fuzzRuns(600),
    );
  });

  test('KServe V1 columns: one tensor, or an object of tensors by input name', () => {
    fc.assert(
      fc.property(rowTensorsArb(), fc.boolean(), (inputs, keyed) => {
        const body = json(v1Columns(inputs, keyed));
        const decoded = runDecodeJob(
          { kind: 'v1', body, inputs: metadataOf(inputs) },
          limits,
          deserializeModelInfer,
        );
        assert.equal(decoded.kind, 'tensors');
        assertSameTensors(decoded.inputs, inputs);
      }),
      fuzzRuns(600),
    );
  });

  test('Seldon data.ndarray (rows) and data.tensor (shape and flat values)', () => {
    fc.assert(
      fc.property(
        fc.oneof(rowTensorsArb({ maxInputs: 1 }), namedTensorsArb('json', { maxInputs: 1 })),
        fc.boolean(),
        floatStyle,
        (inputs, asTensor, floats) => {
          const { tensor } = first(inputs);
          const form = asTensor || !rowsCanCarry(tensor.shape) ? 'tensor' : 'ndarray';
          const data =
            form === 'ndarray'
              ? { ndarray: rowsOf(tensor, floats) }
              : { tensor: { shape: [...tensor.shape], values: jsonElements(tensor, floats) } };
          const decoded = runDecodeJob(
            { kind: 'seldon', body: json({ data }), input: first(metadataOf(inputs)) },
            limits,
            deserializeModelInfer,
          );
          assert.equal(decoded.kind, 'tensor');
          assert.equal(decoded.form, form);
          assert.deepEqual(plain(decoded.tensor), plain(tensor));
        },
      ),
      fuzzRuns(600),
    );
  });

  test('the seed\'s {"X": rows}, and {"X": row} for one row', () => {
    fc.assert(
      fc.property(
        rowTensorsArb({ maxInputs: 1, shape: { minRank: 2 } }),
        fc.boolean(),
        floatStyle,
        (inputs, one, floats) => {
          const { tensor } = first(inputs);
          const input = first(metadataOf(inputs));
          const rows = rowsOf(tensor, floats);
          // {"X": row} is one row only when that row is flat: a nested one is read as a list of rows.
          const single = one && rows.length === 1 && tensor.shape.length === 2 && tensor.shape[1] !== 0;
          const decoded = runDecodeJob(
            { kind: 'rows', body: json({ X: single ? rows[0] : rows }), input },
            limits,
            deserializeModelInfer,
          );
          assert.equal(decoded.single, single);
          assert.deepEqual(plain(decoded.tensor), plain(tensor));
        },
      ),
      fuzzRuns(600),
    );
  });
});

describe('64-bit integers in JSON', () => {
  // JSON numbers are doubles: beyond 2^53 a client's integer may already be another one when parsed. The
  // promise (json-tensor.ts, docs/protocol.md) is that such values are refused, never rounded.
  const beyond = (type: DataType): fc.Arbitrary<bigint> =>
    type === 'UINT64'
      ? fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n })
      : fc.oneof(
          fc.bigInt({ min: 2n ** 53n, max: 2n ** 63n - 1n }),
          fc.bigInt({ min: -(2n ** 63n), max: -(2n ** 53n) }),
        );

  test('beyond ±(2^53 - 1) they are refused by every JSON decoder, never rounded', () => {
    fc.assert(
      fc.property(
        fc
          .constantFrom<DataType>('INT64', 'UINT64')
          .chain((type) =>
            fc.tuple(
              fc.constant(type),
              fc.array(fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }), { minLength: 1, maxLength: 6 }),
              beyond(type),
              fc.nat(),
            ),
          ),
        fc.constantFrom('oip', 'v1', 'seldon', 'rows'),
        ([type, values, big, at], kind) => {
          const data: bigint[] = [...values];
          data[at % data.length] = big;
          const input = { name: 'x', datatype: type, shape: [-1, data.length] };
          const job: DecodeJob =
            kind === 'oip'
              ? oipJob(
                  json({ inputs: [{ name: 'x', datatype: type, shape: [data.length], data }] }),
                  undefined,
                )
              : kind === 'v1'
                ? { kind, body: json({ instances: [data] }), inputs: [input] }
                : kind === 'seldon'
                  ? { kind, body: json({ data: { ndarray: [data] } }), input }
                  : { kind: 'rows', body: json({ X: [data] }), input };
          assert.throws(
            () => runDecodeJob(job, limits, deserializeModelInfer),
            skiffErrorMatcher('SKIFF_BAD_TENSOR', /element \d+ is .*expected (an|a non-negative) integer/),
          );
        },
      ),
      fuzzRuns(300),
    );
  });
});
