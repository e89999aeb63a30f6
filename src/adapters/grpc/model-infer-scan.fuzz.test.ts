// Property-based: scanModelInfer counts on the wire what decoding a ModelInferRequest builds, so it must
// refuse exactly the messages whose decoded contents break the limits; and on bytes that are not a valid
// message, the scan, the deserializer and runDecodeJob must end in a client error, never a 500.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { RequestLimits } from '../../core/request/request-limits.js';
import type { ModelInferRequestMessage } from './grpc-codec.js';
import type { ErrorCode } from '../../core/errors.js';
import { DATA_TYPES } from '../../core/tensor/data-type.js';
import { testLimits } from '../../core/testing/test-limits.js';
import { runDecodeJob } from '../decode/decode-job.js';
import { MAX_REQUESTED_OUTPUTS, scanModelInfer } from './model-infer-scan.js';
import {
  assertClientError,
  assertConsistent,
  assertWithinLimits,
  fuzzRuns,
} from '../../../test/helpers/tensor-arbitraries.js';
import { deserializeModelInfer, serializeModelInfer } from '../../../test/helpers/request-bodies.js';
import { byteEditArb, editBytesAll } from '../../../test/helpers/body-mutations.js';
import { skiffErrorMatcher } from '../../../test/helpers/skiff-error-matcher.js';

const limitsArb: fc.Arbitrary<RequestLimits> = fc
  .record({
    maxRequestElements: fc.integer({ min: 0, max: 120 }),
    maxBytesElements: fc.integer({ min: 0, max: 30 }),
  })
  .map((overrides) => testLimits(overrides));

/** Typed contents in every field, whatever the datatype says: the scan counts fields, not types. */
const contentsArb = fc.record(
  {
    bool_contents: fc.array(fc.boolean(), { maxLength: 20 }),
    int_contents: fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 20 }),
    int64_contents: fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String), {
      maxLength: 20,
    }),
    uint_contents: fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { maxLength: 20 }),
    uint64_contents: fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String), { maxLength: 20 }),
    fp32_contents: fc.array(fc.float(), { maxLength: 20 }),
    fp64_contents: fc.array(fc.double(), { maxLength: 20 }),
    bytes_contents: fc.array(
      fc.uint8Array({ maxLength: 4 }).map((b) => Buffer.from(b)),
      { maxLength: 20 },
    ),
  },
  { requiredKeys: [] },
);

const parameterArb = fc.oneof(
  fc.record({ bool_param: fc.boolean() }),
  fc.record({ int64_param: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String) }),
  fc.record({ string_param: fc.string({ maxLength: 4 }) }),
);

const inputArb = fc.record(
  {
    name: fc.string({ maxLength: 4 }),
    datatype: fc.constantFrom(...DATA_TYPES),
    shape: fc.array(fc.integer({ min: 0, max: 8 }), { maxLength: 3 }),
    parameters: fc.dictionary(fc.string({ maxLength: 4 }), parameterArb, { maxKeys: 2 }),
    contents: contentsArb,
  },
  { requiredKeys: ['name'] },
);

/** Outputs: a few, or around the most a request may name. */
const outputsArb = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.record({ name: fc.string({ maxLength: 4 }) }), { maxLength: 3 }) },
  fc
    .integer({ min: MAX_REQUESTED_OUTPUTS - 2, max: MAX_REQUESTED_OUTPUTS + 2 })
    .map((n) => Array.from({ length: n }, (_, i) => ({ name: `o${i}` }))),
);

const messageArb = fc.record(
  {
    model_name: fc.constant('m'),
    id: fc.string({ maxLength: 4 }),
    parameters: fc.dictionary(fc.string({ maxLength: 4 }), parameterArb, { maxKeys: 2 }),
    inputs: fc.array(inputArb, { maxLength: 3 }),
    outputs: outputsArb,
    raw_input_contents: fc.array(
      fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)),
      { maxLength: 2 },
    ),
  },
  { requiredKeys: ['model_name'] },
);

/** What decoding built: every typed content value (BYTES ones too), the BYTES ones, and the outputs. */
function countsOf(message: ModelInferRequestMessage): { elements: number; strings: number; outputs: number } {
  let elements = 0;
  let strings = 0;
  for (const input of message.inputs ?? []) {
    for (const [field, values] of Object.entries(input.contents ?? {})) {
      if (!Array.isArray(values)) continue;
      elements += values.length;
      if (field === 'bytes_contents') strings += values.length;
    }
  }
  return { elements, strings, outputs: message.outputs?.length ?? 0 };
}

/** The refusal that the decoded message calls for, in the order the scan checks. */
function refusalFor(message: ModelInferRequestMessage, limits: RequestLimits): ErrorCode | undefined {
  const { elements, strings, outputs } = countsOf(message);
  if (outputs > MAX_REQUESTED_OUTPUTS) return 'SKIFF_BAD_TENSOR';
  if (elements > limits.maxRequestElements || strings > limits.maxBytesElements)
    return 'SKIFF_TENSOR_TOO_LARGE';
  return undefined;
}

test('valid messages: the scan refuses exactly those whose decoded contents break a limit, with its code', () => {
  let refused = 0;
  fc.assert(
    fc.property(messageArb, limitsArb, (message, limits) => {
      const bytes = serializeModelInfer(message);
      const expected = refusalFor(deserializeModelInfer(bytes), limits);
      if (expected === undefined) {
        scanModelInfer(bytes, limits);
        return;
      }
      refused++;
      assert.throws(() => scanModelInfer(bytes, limits), skiffErrorMatcher(expected));
    }),
    fuzzRuns(2000),
  );
  assert.ok(refused > 0);
});

/** A protobuf field as read from the wire: its key and, for length-delimited fields, the bytes inside. */
interface WireField {
  readonly field: number;
  readonly wire: number;
  /** The value's bytes as written (varint, fixed) or, for wire type 2, the body without its length. */
  readonly value: Uint8Array;
}

function readVarint(bytes: Uint8Array, at: number): [bigint, number] {
  let value = 0n;
  for (let i = at, shift = 0n; i < bytes.length; i++, shift += 7n) {
    const byte = bytes[i] ?? 0;
    value |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) return [value, i + 1];
  }
  throw new Error('truncated varint');
}

/** The fields of a message the real serializer wrote (so only wire types 0, 1, 2 and 5). */
function fieldsOf(bytes: Uint8Array): WireField[] {
  const fields: WireField[] = [];
  let at = 0;
  while (at < bytes.length) {
    const [key, afterKey] = readVarint(bytes, at);
    const wire = Number(key & 7n);
    const field = Number(key >> 3n);
    let end: number;
    let start = afterKey;
    if (wire === 0) end = readVarint(bytes, afterKey)[1];
    else if (wire === 1) end = afterKey + 8;
    else if (wire === 5) end = afterKey + 4;
    else {
      const [length, afterLength] = readVarint(bytes, afterKey);
      start = afterLength;
      end = afterLength + Number(length);
    }
    fields.push({ field, wire, value: bytes.subarray(start, end) });
    at = end;
  }
  return fields;
}

function varint(value: bigint, minBytes = 1): number[] {
  const out: number[] = [];
  let rest = value;
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    out.push(low);
  } while (rest > 0n || out.length < minBytes);
  return out.map((byte, i) => (i < out.length - 1 ? byte | 0x80 : byte));
}

/**
 * Two encodings that protobufjs decodes as the field the key names but a stricter reader does not: a key
 * written as a 5-byte varint with bits above the 32 that a tag has (protobufjs, like Google's parsers, keeps
 * the low 32), and a length-delimited message field whose key says varint (protobufjs reads the length).
 */
type KeyEdit =
  | { readonly at: number; readonly op: 'high-bits'; readonly high: number }
  | { readonly at: number; readonly op: 'varint-wire' };

const keyEditArb: fc.Arbitrary<KeyEdit> = fc.oneof(
  fc.record({ at: fc.nat(), op: fc.constant('high-bits' as const), high: fc.integer({ min: 1, max: 15 }) }),
  fc.record({ at: fc.nat(), op: fc.constant('varint-wire' as const) }),
);

/**
 * The message written again field by field, with the `at`-th length-delimited field (pre-order over the
 * request, its inputs and their contents, modulo their number) given an edited key.
 */
function editKey(bytes: Uint8Array, edit: KeyEdit): Buffer {
  let count = 0;
  const countFields = (body: Uint8Array, depth: number): void => {
    for (const f of fieldsOf(body)) {
      if (f.wire !== 2) continue;
      count++;
      if (f.field === 5 && depth < 2) countFields(f.value, depth + 1);
    }
  };
  countFields(bytes, 0);
  if (count === 0) return Buffer.from(bytes);
  let target = edit.at % count;
  const write = (body: Uint8Array, depth: number): number[] =>
    fieldsOf(body).flatMap((f) => {
      if (f.wire !== 2) return [...varint(BigInt(f.field * 8 + f.wire)), ...f.value];
      const chosen = target-- === 0;
      const inner = f.field === 5 && depth < 2 ? write(f.value, depth + 1) : [...f.value];
      const key = BigInt(f.field * 8 + (chosen && edit.op === 'varint-wire' ? 0 : 2));
      const keyBytes =
        chosen && edit.op === 'high-bits' ? varint(key + (BigInt(edit.high) << 32n), 5) : varint(key);
      return [...keyBytes, ...varint(BigInt(inner.length)), ...inner];
    });
  return Buffer.from(write(bytes, 0));
}

type Verdict =
  'both refuse' | 'scan alone refuses' | 'agree' | 'deserializer alone refuses' | 'scan undercounts';

/**
 * Scan, deserializer and runDecodeJob on one body. The scan's errors and runDecodeJob's must be client errors,
 * also when the deserializer throws after the scan passed.
 */
function verdict(bytes: Uint8Array, limits: RequestLimits): Verdict {
  let scanned = true;
  try {
    scanModelInfer(bytes, limits);
  } catch (error) {
    assertClientError(error);
    scanned = false;
  }
  let message: ModelInferRequestMessage | undefined;
  try {
    message = deserializeModelInfer(bytes);
  } catch {
    message = undefined;
  }
  try {
    const decoded = runDecodeJob<'grpc-infer'>(
      { kind: 'grpc-infer', body: bytes },
      limits,
      deserializeModelInfer,
    );
    const tensors = Object.values(decoded.request.inputs);
    for (const tensor of tensors) assertConsistent(tensor);
    assertWithinLimits(tensors, limits);
  } catch (error) {
    assertClientError(error);
  }
  if (!scanned) return message === undefined ? 'both refuse' : 'scan alone refuses';
  if (message === undefined) return 'deserializer alone refuses';
  return refusalFor(message, limits) === undefined ? 'agree' : 'scan undercounts';
}

const garbageArb = fc.oneof(
  fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b)),
  fc
    .tuple(
      messageArb,
      fc.array(byteEditArb(fc.uint8Array({ minLength: 1, maxLength: 4 })), { minLength: 1, maxLength: 3 }),
    )
    .map(([message, edits]) => editBytesAll(serializeModelInfer(message), edits)),
  fc.tuple(messageArb, keyEditArb).map(([message, edit]) => editKey(serializeModelInfer(message), edit)),
);

describe('bytes that are not a valid message', () => {
  test('scan, deserializer and runDecodeJob end in client errors', () => {
    const verdicts: Partial<Record<Verdict, number>> = {};
    fc.assert(
      fc.property(garbageArb, limitsArb, (bytes, limits) => {
        const v = verdict(bytes, limits);
        verdicts[v] = (verdicts[v] ?? 0) + 1;
      }),
      fuzzRuns(4000),
    );
    // Both sides are reached: messages the scan lets through and decodes, and messages both refuse.
    assert.ok((verdicts.agree ?? 0) > 0 && (verdicts['both refuse'] ?? 0) > 0, JSON.stringify(verdicts));
  });

  test(
    // The scan may pass what protobufjs then refuses (that is a client error too, checked in verdict), but
    // whatever protobufjs decodes, the scan counted: its limits hold before the deserializer allocates.
    'the scan counts all that the deserializer decodes',
    () => {
      fc.assert(
        fc.property(garbageArb, limitsArb, (bytes, limits) => {
          const v = verdict(bytes, limits);
          assert.ok(v !== 'scan undercounts', v);
        }),
        fuzzRuns(2000),
      );
    },
  );

  test('reproduction: contents hidden from the scan by the encoding of a key', () => {
    const limits = testLimits({ maxRequestElements: 10 });
    const hundred = serializeModelInfer({
      model_name: 'm',
      inputs: [
        {
          name: 'x',
          datatype: 'FP32',
          shape: [100],
          contents: { fp32_contents: new Array<number>(100).fill(1) },
        },
      ],
    });
    const input = fieldsOf(hundred).find((f) => f.field === 5)?.value ?? new Uint8Array(0);
    const name = [0x0a, 0x01, 0x6d];
    for (const [what, key, code] of [
      [
        'a 5-byte key with bit 32 set (field 5 + 2^29 to the scan, 5 to protobufjs)',
        [0xaa, 0x80, 0x80, 0x80, 0x10],
        'SKIFF_TENSOR_TOO_LARGE',
      ],
      ['inputs under a varint key (0x28 instead of 0x2a)', [0x28], 'SKIFF_BAD_REQUEST'],
    ] as const) {
      const body = Uint8Array.from([...name, ...key, ...varint(BigInt(input.length)), ...input]);
      assert.equal(countsOf(deserializeModelInfer(body)).elements, 100, what);
      assert.throws(() => scanModelInfer(body, limits), skiffErrorMatcher(code), what);
    }
  });

  test('reproduction: bytes the scan passes and protobufjs cannot decode are a client error', () => {
    // Field 5 (inputs) under a varint key: the scan skips the varint; protobufjs reads it as a length.
    assert.throws(
      () =>
        runDecodeJob(
          { kind: 'grpc-infer', body: Uint8Array.from([0x28, 0x01]) },
          testLimits(),
          deserializeModelInfer,
        ),
      skiffErrorMatcher('SKIFF_BAD_REQUEST'),
    );
  });
});
