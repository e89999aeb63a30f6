// Property-based: whatever body arrives, in any protocol, runDecodeJob returns well-formed tensors within
// the request limits, or throws a SkiffError of a client-error kind: never an error that becomes a 500.
// Bodies are arbitrary bytes, arbitrary JSON, and valid requests mutated (edited values, edited bytes).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { TensorMetadata } from '../../core/inference-types.js';
import type { RequestLimits } from '../../core/request/request-limits.js';
import type { Tensor } from '../../core/tensor/tensor.js';
import type { ErrorCode } from '../../core/errors.js';
import { DATA_TYPES } from '../../core/tensor/data-type.js';
import { testLimits } from '../../core/testing/test-limits.js';
import { runDecodeJob } from './decode-job.js';
import type { DecodeJob } from './decode-job.js';
import type { NamedTensor } from '../../../test/helpers/tensor-arbitraries.js';
import {
  assertClientError,
  assertConsistent,
  assertSameTensors,
  assertWithinLimits,
  elementsOf,
  fuzzRuns,
  inputNameArb,
  namedTensorsArb,
  plain,
  rowTensorsArb,
} from '../../../test/helpers/tensor-arbitraries.js';
import {
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
import type { ByteEdit, NodeEdit } from '../../../test/helpers/body-mutations.js';
import {
  JSON_TOKENS,
  byteEditArb,
  editBytesAll,
  editJsonAll,
  nodeEditArb,
} from '../../../test/helpers/body-mutations.js';
import { skiffErrorMatcher } from '../../../test/helpers/skiff-error-matcher.js';

const json = (value: unknown): Buffer => Buffer.from(writeJson(value));
const protobuf = deserializeModelInfer;

function decodedTensors(job: DecodeJob, limits: RequestLimits): Tensor[] {
  switch (job.kind) {
    case 'oip':
      return Object.values(runDecodeJob<'oip'>(job, limits, protobuf).request.inputs);
    case 'grpc-infer':
      return Object.values(runDecodeJob<'grpc-infer'>(job, limits, protobuf).request.inputs);
    case 'v1': {
      const decoded = runDecodeJob<'v1'>(job, limits, protobuf);
      return decoded.kind === 'tensors' ? Object.values(decoded.inputs) : [];
    }
    case 'seldon': {
      const decoded = runDecodeJob<'seldon'>(job, limits, protobuf);
      return decoded.kind === 'tensor' ? [decoded.tensor] : [];
    }
    case 'rows':
      return [runDecodeJob<'rows'>(job, limits, protobuf).tensor];
  }
}

type Outcome = 'decoded' | 'refused';

/** Counts outcomes, so that a property can show it reached both sides (a decoder that refuses all passes). */
class Tally {
  readonly counts: Record<Outcome, number> = { decoded: 0, refused: 0 };

  check(job: DecodeJob, limits: RequestLimits): void {
    this.counts[outcome(job, limits)]++;
  }

  assertBothSides(): void {
    assert.ok(this.counts.decoded > 0 && this.counts.refused > 0, JSON.stringify(this.counts));
  }
}

function outcome(job: DecodeJob, limits: RequestLimits): Outcome {
  let tensors: Tensor[];
  try {
    tensors = decodedTensors(job, limits);
  } catch (error) {
    assertClientError(error);
    return 'refused';
  }
  for (const tensor of tensors) assertConsistent(tensor);
  assertWithinLimits(tensors, limits);
  return 'decoded';
}

/** The defaults, or small limits that requests of a few dozen elements straddle. */
const limitsArb: fc.Arbitrary<RequestLimits> = fc.oneof(
  fc.constant(testLimits()),
  fc
    .record({
      maxTensorElements: fc.integer({ min: 0, max: 40 }),
      maxRequestElements: fc.integer({ min: 0, max: 80 }),
      maxBytesElements: fc.integer({ min: 0, max: 12 }),
      maxInstances: fc.integer({ min: 1, max: 6 }),
      maxJsonDepth: fc.integer({ min: 1, max: 12 }),
    })
    .map((overrides) => testLimits(overrides)),
);

/** A model input as metadata shows it; names include the ones the row formats treat specially. */
const metadataArb: fc.Arbitrary<TensorMetadata> = fc.record({
  name: fc.oneof(fc.constantFrom('x', 'y', 'b64', 'image_bytes'), inputNameArb),
  datatype: fc.constantFrom(...DATA_TYPES),
  shape: fc.array(fc.integer({ min: -1, max: 4 }), { maxLength: 3 }),
});

const KINDS = ['oip', 'v1', 'seldon', 'rows', 'grpc-infer'] as const;

/** The same body given to any decoder, with a model of random inputs and a random header length. */
const anyJobArb = (body: fc.Arbitrary<Uint8Array>): fc.Arbitrary<DecodeJob> =>
  fc
    .record({
      kind: fc.constantFrom(...KINDS),
      body,
      inputs: fc.array(metadataArb, { maxLength: 3 }),
      headerLength: fc.option(fc.integer({ min: -5, max: 400 }), { nil: undefined }),
    })
    .map(({ kind, body: bytes, inputs, headerLength }): DecodeJob => {
      const [input = { name: 'x', datatype: 'FP32', shape: [-1, 2] }] = inputs;
      switch (kind) {
        case 'oip':
          return { kind, body: bytes, model: 'm', version: undefined, headerLength, declared: undefined };
        case 'v1':
          return { kind, body: bytes, inputs };
        case 'seldon':
          return { kind, body: bytes, input: inputs[0] };
        case 'rows':
          return { kind, body: bytes, input };
        case 'grpc-infer':
          return { kind, body: bytes };
      }
    });

const hole = fc.jsonValue({ maxDepth: 4 });
/** JSON shaped like each protocol's body, with arbitrary JSON where its values go. */
const protocolJsonArb: fc.Arbitrary<unknown> = fc.oneof(
  hole,
  fc.record({ instances: hole }),
  fc.record({ inputs: hole }),
  fc.record({ instances: fc.array(fc.dictionary(fc.constantFrom('x', 'y', 'b64', 'image_bytes'), hole)) }),
  fc.record({ data: fc.record({ ndarray: hole, tensor: hole }, { requiredKeys: [] }) }),
  fc.record({ data: fc.record({ tensor: fc.record({ shape: hole, values: hole }, { requiredKeys: [] }) }) }),
  fc.record({ binData: hole, strData: hole, jsonData: hole }, { requiredKeys: [] }),
  fc.record({ X: hole }),
  fc.record({
    inputs: fc.array(
      fc.record(
        {
          name: fc.oneof(fc.constantFrom('x', 'y'), hole),
          datatype: fc.oneof(fc.constantFrom(...DATA_TYPES), hole),
          shape: fc.oneof(fc.array(fc.integer({ min: -2, max: 4 }), { maxLength: 3 }), hole),
          data: hole,
          parameters: fc.oneof(fc.record({ binary_data_size: fc.integer({ min: -2, max: 40 }) }), hole),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 3 },
    ),
    outputs: hole,
    parameters: hole,
    id: hole,
  }),
);

describe('robustness: every decoder, any body', () => {
  test('arbitrary bytes', () => {
    const tally = new Tally();
    fc.assert(
      fc.property(anyJobArb(fc.uint8Array({ maxLength: 200 })), limitsArb, (job, limits) => {
        tally.check(job, limits);
      }),
      fuzzRuns(3000),
    );
  });

  test('arbitrary JSON, and JSON shaped like each protocol with arbitrary values in it', () => {
    const tally = new Tally();
    fc.assert(
      fc.property(anyJobArb(protocolJsonArb.map(json)), limitsArb, (job, limits) => {
        tally.check(job, limits);
      }),
      fuzzRuns(3000),
    );
    tally.assertBothSides();
  });
});

const nodeEdits = fc.array(nodeEditArb, { maxLength: 2 });
const jsonByteEdits = fc.array(byteEditArb(JSON_TOKENS), { maxLength: 2 });
/** Mostly the types the tensors have, sometimes another: a model whose inputs the request does not match. */
const metadataFor = (inputs: readonly NamedTensor[]): fc.Arbitrary<TensorMetadata[]> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(metadataOf(inputs)) },
    fc
      .array(fc.constantFrom(...DATA_TYPES), { minLength: inputs.length, maxLength: inputs.length })
      .map((types) => metadataOf(inputs).map((m, i) => ({ ...m, datatype: types[i] ?? m.datatype }))),
  );

function mutated(value: unknown, edits: readonly NodeEdit[], bytes: readonly ByteEdit[]): Buffer {
  return editBytesAll(json(editJsonAll(value, edits)), bytes);
}

describe('robustness: valid requests, mutated', () => {
  test('OIP JSON and binary: edited values, edited bytes, a wrong header length', () => {
    const tally = new Tally();
    fc.assert(
      fc.property(
        oipInputsArb(true),
        nodeEdits,
        jsonByteEdits,
        // Mostly the right header length (else little gets past it), sometimes off by a few, sometimes none.
        fc.oneof(
          { weight: 3, arbitrary: fc.constant(0) },
          fc.integer({ min: -8, max: 8 }),
          fc.constant(undefined),
        ),
        fc.boolean(),
        limitsArb,
        (inputs, edits, bytes, shift, declare, limits) => {
          const { header, binary } = oipRequest(inputs);
          const json = Buffer.from(writeJson(editJsonAll(header, edits)));
          const body = editBytesAll(Buffer.concat([json, ...binary]), bytes);
          const headerLength =
            binary.length === 0 && shift === undefined ? undefined : json.length + (shift ?? 0);
          const declared = inputs.map(({ input: { name, tensor } }) => ({
            name,
            type: tensor.type,
            shape: tensor.shape,
          }));
          tally.check(
            {
              kind: 'oip',
              body,
              model: 'm',
              version: undefined,
              headerLength,
              declared: declare ? declared : undefined,
            },
            limits,
          );
        },
      ),
      fuzzRuns(1500),
    );
    tally.assertBothSides();
  });

  test('KServe V1 instances and columns', () => {
    const tally = new Tally();
    fc.assert(
      fc.property(
        rowTensorsArb().chain((inputs) =>
          fc.tuple(fc.constant(inputs), metadataFor(inputs), fc.boolean(), fc.boolean()),
        ),
        nodeEdits,
        jsonByteEdits,
        limitsArb,
        ([inputs, metadata, columns, keyed], edits, bytes, limits) => {
          const value = columns ? v1Columns(inputs, keyed) : v1Instances(inputs, keyed);
          tally.check({ kind: 'v1', body: mutated(value, edits, bytes), inputs: metadata }, limits);
        },
      ),
      fuzzRuns(1500),
    );
    tally.assertBothSides();
  });

  test('Seldon ndarray and tensor', () => {
    const tally = new Tally();
    fc.assert(
      fc.property(
        rowTensorsArb({ maxInputs: 1 }).chain((inputs) => fc.tuple(fc.constant(inputs), metadataFor(inputs))),
        fc.boolean(),
        nodeEdits,
        jsonByteEdits,
        limitsArb,
        ([inputs, metadata], asTensor, edits, bytes, limits) => {
          const [{ tensor }] = inputs as [NamedTensor];
          const data = asTensor
            ? { tensor: { shape: [...tensor.shape], values: jsonElements(tensor) } }
            : { ndarray: rowsOf(tensor) };
          tally.check({ kind: 'seldon', body: mutated({ data }, edits, bytes), input: metadata[0] }, limits);
        },
      ),
      fuzzRuns(1500),
    );
    tally.assertBothSides();
  });

  test('the seed\'s {"X": rows}', () => {
    const tally = new Tally();
    fc.assert(
      fc.property(
        rowTensorsArb({ maxInputs: 1 }).chain((inputs) => fc.tuple(fc.constant(inputs), metadataFor(inputs))),
        nodeEdits,
        jsonByteEdits,
        limitsArb,
        ([inputs, [input]], edits, bytes, limits) => {
          const [{ tensor }] = inputs as [NamedTensor];
          if (input === undefined) return;
          tally.check({ kind: 'rows', body: mutated({ X: rowsOf(tensor) }, edits, bytes), input }, limits);
        },
      ),
      fuzzRuns(1000),
    );
    tally.assertBothSides();
  });

  test('gRPC ModelInferRequest: edited message fields, edited protobuf bytes', () => {
    const tally = new Tally();
    fc.assert(
      fc.property(
        namedTensorsArb('typed', { types: DATA_TYPES.filter((t) => t !== 'FP16') }),
        fc.constantFrom('typed' as const, 'raw' as const),
        nodeEdits,
        fc.array(byteEditArb(fc.uint8Array({ minLength: 1, maxLength: 4 })), { maxLength: 2 }),
        limitsArb,
        (inputs, form, edits, bytes, limits) => {
          let message: Buffer;
          try {
            message = serializeModelInfer(editJsonAll(modelInferRequest(inputs, form), edits) as object);
          } catch {
            // protobufjs would not write this edit; no client could send it.
            fc.pre(false);
            return;
          }
          tally.check({ kind: 'grpc-infer', body: editBytesAll(message, bytes) }, limits);
        },
      ),
      fuzzRuns(1500),
    );
    tally.assertBothSides();
  });
});

/** The limit a valid request breaks first, in the order the decoders add inputs to the budget. */
function refusalFor(
  tensors: readonly Tensor[],
  limits: RequestLimits,
  instances?: number,
): ErrorCode | undefined {
  if (instances !== undefined && instances > limits.maxInstances) return 'SKIFF_TOO_MANY_INSTANCES';
  let elements = 0;
  let strings = 0;
  for (const tensor of tensors) {
    const count = elementsOf(tensor.shape);
    elements += count;
    if (tensor.type === 'BYTES') strings += count;
    if (
      count > limits.maxTensorElements ||
      elements > limits.maxRequestElements ||
      strings > limits.maxBytesElements
    )
      return 'SKIFF_TENSOR_TOO_LARGE';
  }
  return undefined;
}

const smallLimitsArb = fc
  .record({
    maxTensorElements: fc.integer({ min: 0, max: 40 }),
    maxRequestElements: fc.integer({ min: 0, max: 80 }),
    maxBytesElements: fc.integer({ min: 0, max: 12 }),
    maxInstances: fc.integer({ min: 1, max: 4 }),
  })
  .map((overrides) => testLimits(overrides));

/**
 * A valid request is refused with the code of the limit it breaks when it breaks one, and otherwise decodes
 * to exactly what was sent: the limits neither leak nor bite early.
 */
function assertLimitsHold(
  job: DecodeJob,
  inputs: readonly NamedTensor[],
  limits: RequestLimits,
  instances?: number,
): void {
  const refusal = refusalFor(
    inputs.map((i) => i.tensor),
    limits,
    instances,
  );
  if (refusal !== undefined) {
    assert.throws(() => decodedTensors(job, limits), skiffErrorMatcher(refusal));
    return;
  }
  const tensors = decodedTensors(job, limits);
  assertWithinLimits(tensors, limits);
  assert.equal(tensors.length, inputs.length);
}

describe('limits: refused with their code exactly when a request breaks them', () => {
  test('OIP JSON and binary', () => {
    fc.assert(
      fc.property(oipInputsArb(true), smallLimitsArb, (inputs, limits) => {
        const { header, binary } = oipRequest(inputs);
        const { body, headerLength } = oipBody(header, binary);
        const job: DecodeJob = {
          kind: 'oip',
          body,
          model: 'm',
          version: undefined,
          headerLength,
          declared: undefined,
        };
        assertLimitsHold(
          job,
          inputs.map((i) => i.input),
          limits,
        );
      }),
      fuzzRuns(800),
    );
  });

  test('gRPC typed and raw contents (the wire scan, then the decoder)', () => {
    fc.assert(
      fc.property(
        namedTensorsArb('typed', { types: DATA_TYPES.filter((t) => t !== 'FP16') }),
        fc.constantFrom('typed' as const, 'raw' as const),
        smallLimitsArb,
        (inputs, form, limits) => {
          const body = serializeModelInfer(modelInferRequest(inputs, form));
          assertLimitsHold({ kind: 'grpc-infer', body }, inputs, limits);
        },
      ),
      fuzzRuns(800),
    );
  });

  test('KServe V1 instances (and --max-instances) and columns', () => {
    fc.assert(
      fc.property(
        rowTensorsArb(),
        fc.boolean(),
        fc.boolean(),
        smallLimitsArb,
        (inputs, columns, keyed, limits) => {
          const body = json(columns ? v1Columns(inputs, keyed) : v1Instances(inputs, keyed));
          const batch = inputs[0]?.tensor.shape[0];
          assertLimitsHold(
            { kind: 'v1', body, inputs: metadataOf(inputs) },
            inputs,
            limits,
            columns ? undefined : batch,
          );
        },
      ),
      fuzzRuns(800),
    );
  });

  test('Seldon ndarray and tensor, and {"X": rows}', () => {
    fc.assert(
      fc.property(
        rowTensorsArb({ maxInputs: 1 }),
        fc.constantFrom('ndarray', 'tensor', 'X'),
        smallLimitsArb,
        (inputs, form, limits) => {
          const [{ tensor }] = inputs as [NamedTensor];
          const [input] = metadataOf(inputs) as [TensorMetadata];
          const job: DecodeJob =
            form === 'X'
              ? { kind: 'rows', body: json({ X: rowsOf(tensor) }), input }
              : {
                  kind: 'seldon',
                  body: json({
                    data:
                      form === 'ndarray'
                        ? { ndarray: rowsOf(tensor) }
                        : { tensor: { shape: [...tensor.shape], values: jsonElements(tensor) } },
                  }),
                  input,
                };
          assertLimitsHold(job, inputs, limits);
        },
      ),
      fuzzRuns(800),
    );
  });
});

describe('fuzzing findings, fixed', () => {
  const limits = testLimits();
  const input: TensorMetadata = { name: 'x', datatype: 'FP32', shape: [-1, 2] };

  test('Seldon {"data": {"tensor": null}} is a client error', () => {
    assert.throws(
      () => runDecodeJob({ kind: 'seldon', body: json({ data: { tensor: null } }), input }, limits, protobuf),
      skiffErrorMatcher('SKIFF_BAD_TENSOR'),
    );
  });

  test('protobuf that the wire scan passes but protobufjs cannot decode is a client error', () => {
    // model_name "m", then parameters (field 4) holding one byte that is no protobuf field.
    for (const body of [
      [0x0a, 0x01, 0x6d, 0x22, 0x01, 0x07],
      // The same inside outputs (field 6), and inside an input's parameters (field 5, then its field 4).
      [0x0a, 0x01, 0x6d, 0x32, 0x01, 0x07],
      [0x0a, 0x01, 0x6d, 0x2a, 0x03, 0x22, 0x01, 0x07],
      // Two bytes: inputs under a varint key, which the scan skips and protobufjs reads as a length.
      [0x28, 0x01],
    ]) {
      assert.throws(
        () => runDecodeJob({ kind: 'grpc-infer', body: Uint8Array.from(body) }, limits, protobuf),
        skiffErrorMatcher('SKIFF_BAD_REQUEST'),
        Buffer.from(body).toString('hex'),
      );
    }
  });

  test('an input may be named like a key of Object.prototype ("constructor", "toString", "__proto__")', () => {
    const tensor: Tensor = { type: 'FP32', shape: [1, 2], data: Float32Array.from([1, 2]) };
    for (const name of ['constructor', 'toString', '__proto__']) {
      const named = [{ name, tensor }];
      const oip = oipBody(oipRequest([{ input: { name, tensor }, binary: false, nested: false }]).header, []);
      const rest = runDecodeJob<'oip'>(
        {
          kind: 'oip',
          body: oip.body,
          model: 'm',
          version: undefined,
          headerLength: undefined,
          declared: undefined,
        },
        limits,
        protobuf,
      );
      assertSameTensors(rest.request.inputs, named);
      const grpc = runDecodeJob<'grpc-infer'>(
        { kind: 'grpc-infer', body: serializeModelInfer(modelInferRequest(named, 'typed')) },
        limits,
        protobuf,
      );
      assertSameTensors(grpc.request.inputs, named);
      const v1 = runDecodeJob<'v1'>(
        { kind: 'v1', body: json({ instances: [[1, 2]] }), inputs: metadataOf(named) },
        limits,
        protobuf,
      );
      assert.ok(v1.kind === 'tensors' && Object.hasOwn(v1.inputs, name), `V1 input "${name}"`);
    }
  });

  test("rows of different lengths are refused, not re-cut to the first row's shape", () => {
    const rows = [[1, 2], [3], [4, 5, 6]];
    for (const job of [
      { kind: 'v1', body: json({ instances: rows }), inputs: [input] },
      { kind: 'seldon', body: json({ data: { ndarray: rows } }), input },
      { kind: 'rows', body: json({ X: rows }), input },
    ] satisfies DecodeJob[]) {
      assert.throws(() => decodedTensors(job, limits), skiffErrorMatcher('SKIFF_BAD_TENSOR'), job.kind);
    }
  });

  test('for the record: OIP data nested any way is flattened (as Triton does), when the count fits', () => {
    const body = json({
      inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: [[1], [2, [3, [4]]]] }],
    });
    const decoded = runDecodeJob<'oip'>(
      { kind: 'oip', body, model: 'm', version: undefined, headerLength: undefined, declared: undefined },
      limits,
      protobuf,
    );
    const x = decoded.request.inputs.x;
    assert.ok(x !== undefined);
    assert.deepEqual(plain(x), plain({ type: 'FP32', shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) }));
  });
});
