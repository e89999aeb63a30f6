// Property-based: whatever bytes or JSON arrive, the parsers either decode them or throw a SkiffError with a
// client-error kind; never anything else (which would become a 500).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { testLimits } from '../../core/testing/test-limits.js';
import { decodeInferBody } from './oip-codec.js';
import { isSkiffError } from '../../core/errors.js';
import { tensorFromJson } from '../../core/tensor/json-tensor.js';
import { tensorFromRaw } from '../../core/tensor/raw-tensor.js';
import { parseLabels } from '../../core/model/labels.js';
import { DATA_TYPES } from '../../core/tensor/data-type.js';

function clientErrorOrNothing(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    assert.ok(isSkiffError(error), `non-Skiff error: ${String(error)}`);
    assert.notEqual(error.kind, 'internal', error.message);
  }
}

const datatype = fc.constantFrom(...DATA_TYPES);
const jsonValue = fc.jsonValue({ maxDepth: 4 });
const input = fc.record(
  {
    name: fc.oneof(fc.string(), jsonValue),
    datatype: fc.oneof(datatype, fc.string()),
    shape: fc.oneof(fc.array(fc.integer({ min: -3, max: 6 }), { maxLength: 4 }), jsonValue),
    data: fc.oneof(
      jsonValue,
      fc.array(fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.string()), { maxLength: 30 }),
    ),
    parameters: fc.oneof(
      fc.constant(undefined),
      fc.record({ binary_data_size: fc.oneof(fc.integer({ min: -5, max: 64 }), jsonValue) }),
    ),
  },
  { requiredKeys: [] },
);

test('decodeInferBody: random JSON requests, with and without binary sections', () => {
  fc.assert(
    fc.property(
      fc.record(
        {
          inputs: fc.oneof(fc.array(input, { maxLength: 4 }), jsonValue),
          outputs: fc.oneof(fc.constant(undefined), jsonValue),
          id: fc.oneof(fc.string(), jsonValue),
        },
        { requiredKeys: [] },
      ),
      fc.uint8Array({ maxLength: 64 }),
      fc.option(fc.integer({ min: -10, max: 400 })),
      (request, binary, headerShift) => {
        const json = Buffer.from(JSON.stringify(request));
        const body = Buffer.concat([json, binary]);
        const headerLength = headerShift === null ? undefined : json.length + (headerShift % 7);
        clientErrorOrNothing(() =>
          decodeInferBody('m', undefined, body, headerLength, testLimits({ maxTensorElements: 1_000_000 })),
        );
      },
    ),
    { numRuns: 3000 },
  );
});

test('decodeInferBody: random bytes', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 300 }),
      fc.option(fc.integer({ min: -5, max: 400 })),
      (bytes, header) => {
        clientErrorOrNothing(() =>
          decodeInferBody(
            'm',
            undefined,
            Buffer.from(bytes),
            header ?? undefined,
            testLimits({ maxTensorElements: 1_000_000 }),
          ),
        );
      },
    ),
    { numRuns: 3000 },
  );
});

test('tensorFromJson and tensorFromRaw: any datatype, shape and data', () => {
  fc.assert(
    fc.property(
      datatype,
      fc.array(fc.integer({ min: -2, max: 5 }), { maxLength: 4 }),
      jsonValue,
      fc.uint8Array({ maxLength: 80 }),
      (type, shape, data, raw) => {
        clientErrorOrNothing(() => tensorFromJson('x', type, shape, data));
        clientErrorOrNothing(() => tensorFromRaw('x', type, shape.map(Math.abs), raw));
      },
    ),
    { numRuns: 3000 },
  );
});

test('parseLabels: any text', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 200 }),
        jsonValue.map((v) => JSON.stringify(v)),
      ),
      (text) => {
        clientErrorOrNothing(() => parseLabels(text, 'labels.txt'));
      },
    ),
    { numRuns: 2000 },
  );
});
