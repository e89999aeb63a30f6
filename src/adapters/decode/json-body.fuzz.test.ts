// Property-based: parseJsonBody accepts exactly the JSON nested no deeper than maxJsonDepth, whatever its
// strings hold (brackets, escaped quotes, backslashes, multi-byte characters), and refuses the rest:
// SKIFF_BAD_TENSOR when too deep, SKIFF_BAD_REQUEST when not JSON. The reference is JSON.parse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isSkiffError } from '../../core/errors.js';
import { parseJsonBody } from './json-body.js';
import { fuzzRuns } from '../../../test/helpers/tensor-arbitraries.js';
import { JSON_TOKENS, byteEditArb, editBytesAll } from '../../../test/helpers/body-mutations.js';
import { skiffErrorMatcher } from '../../../test/helpers/skiff-error-matcher.js';

/** Nesting of a parsed value: 0 for a scalar, one more than its deepest member for an array or object. */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  return 1 + Math.max(0, ...Object.values(value).map(depthOf));
}

/** Characters that a byte-level bracket counter could mistake for structure, in strings and keys. */
const tricky = fc.string({
  unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', '\\"', ':', ',', 'a', ' ', 'é', '😀', '\n', '\u0000'),
  maxLength: 8,
});

/** JSON of any depth up to ~45: a random value wrapped in a random chain of arrays and objects. */
const deepValueArb = fc
  .tuple(
    fc.jsonValue({ maxDepth: 4, stringUnit: fc.constantFrom('[', ']', '{', '}', '"', '\\', 'x', 'é') }),
    fc.array(fc.option(tricky, { nil: undefined }), { maxLength: 40, size: 'max' }),
    fc.array(tricky, { maxLength: 3 }),
  )
  .map(([inner, chain, siblings]) =>
    chain.reduce<unknown>(
      (value, key) =>
        key === undefined
          ? [...siblings, value]
          : { ...Object.fromEntries(siblings.map((s) => [s, s])), [key]: value },
      inner,
    ),
  );

const text = (value: unknown, indent: number): Buffer => Buffer.from(JSON.stringify(value, null, indent));

test('valid JSON: accepted at its own depth, refused one level below it, and at any limit by comparison', () => {
  fc.assert(
    fc.property(
      deepValueArb,
      fc.integer({ min: 0, max: 2 }),
      fc.integer({ min: 0, max: 48 }),
      (value, indent, limit) => {
        const body = text(value, indent);
        const reference = JSON.parse(body.toString()) as unknown;
        const depth = depthOf(reference);
        assert.deepEqual(parseJsonBody(body, depth), reference);
        if (depth > 0)
          assert.throws(
            () => parseJsonBody(body, depth - 1),
            skiffErrorMatcher(
              'SKIFF_BAD_TENSOR',
              /nested too deeply \(more than \d+ levels, --max-json-depth\)/,
            ),
          );
        if (depth <= limit) assert.deepEqual(parseJsonBody(body, limit), reference);
        else assert.throws(() => parseJsonBody(body, limit), skiffErrorMatcher('SKIFF_BAD_TENSOR'));
      },
    ),
    fuzzRuns(3000),
  );
});

/**
 * Any bytes: when JSON.parse reads them, the answer is its value or SKIFF_BAD_TENSOR exactly as deep bodies
 * call for; when it does not, a SkiffError (too deep may be seen before the syntax error).
 */
function agreesWithJsonParse(body: Buffer, limit: number): void {
  let reference: unknown;
  let valid = true;
  try {
    reference = JSON.parse(body.toString('utf8'));
  } catch {
    valid = false;
  }
  if (valid && depthOf(reference) <= limit) {
    assert.deepEqual(parseJsonBody(body, limit), reference);
    return;
  }
  try {
    parseJsonBody(body, limit);
  } catch (error) {
    assert.ok(isSkiffError(error), String(error));
    if (valid) assert.equal(error.code, 'SKIFF_BAD_TENSOR');
    else assert.ok(error.code === 'SKIFF_BAD_REQUEST' || error.code === 'SKIFF_BAD_TENSOR', error.code);
    return;
  }
  assert.fail(valid ? 'accepted a body nested too deeply' : 'accepted a body JSON.parse refuses');
}

test('mutated JSON and arbitrary bytes: the same answer as JSON.parse and a reference depth', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc
          .tuple(
            deepValueArb,
            fc.integer({ min: 0, max: 2 }),
            fc.array(byteEditArb(JSON_TOKENS), { minLength: 1, maxLength: 3 }),
          )
          .map(([value, indent, edits]) => editBytesAll(text(value, indent), edits)),
        fc
          .string({
            unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', ',', ':', '1', ' ', 'null'),
            maxLength: 60,
          })
          .map((s) => Buffer.from(s)),
        fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
      ),
      fc.integer({ min: 0, max: 48 }),
      agreesWithJsonParse,
    ),
    fuzzRuns(5000),
  );
});

test('thousands of levels are refused before parsing, whatever mix of arrays and objects', () => {
  fc.assert(
    fc.property(fc.array(fc.boolean(), { minLength: 33, maxLength: 3000, size: 'max' }), (chain) => {
      const open = chain.map((array) => (array ? '[' : '{"k":')).join('');
      const close = chain
        .map((array) => (array ? ']' : '}'))
        .reverse()
        .join('');
      assert.throws(
        () => parseJsonBody(Buffer.from(`${open}1${close}`), 32),
        skiffErrorMatcher('SKIFF_BAD_TENSOR'),
      );
    }),
    fuzzRuns(200),
  );
});
