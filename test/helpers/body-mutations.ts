// Mutations of valid request bodies for the decoder fuzz tests: edits of the JSON value before it is written
// (wrong types, wrong depth, huge or negative numbers) and of the bytes after (truncation, flips, brackets).
// Edits are data, not functions, so that fast-check prints a counterexample that can be read.
import fc from 'fast-check';
import { JsonLiteral } from './request-bodies.js';

export type NodeOp = 'wrap' | 'unwrap' | 'flatten' | 'drop-first' | 'repeat' | 'remove';

/** One edit of a JSON value, at its `at`-th node in pre-order (modulo the node count). */
export type NodeEdit =
  | { readonly at: number; readonly op: 'replace'; readonly value: unknown }
  | { readonly at: number; readonly op: NodeOp };

/** Values that have broken decoders before: wrong types, bounds of number formats, wrong nesting. */
const NASTY: readonly unknown[] = [
  -1,
  -0,
  0.5,
  1.5,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 64,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  5e-324,
  null,
  true,
  false,
  '',
  '3',
  'fp32',
  'FP16',
  'BYTES',
  'BOOL',
  '__proto__',
  'constructor',
  [],
  {},
  [[]],
  [-1],
  [0.5],
  [2 ** 53, 2 ** 53],
  [2 ** 26, 2 ** 26, 0],
  [1e300, 1e300],
  { b64: 'AAAA' },
  new JsonLiteral('1e999'),
  new JsonLiteral('-1e999'),
  new JsonLiteral('1e-400'),
  new JsonLiteral('18446744073709551616'),
  new JsonLiteral('-9223372036854775809'),
  new JsonLiteral('9007199254740993'),
];

export const nodeEditArb: fc.Arbitrary<NodeEdit> = fc.oneof(
  fc.record({
    at: fc.nat(),
    op: fc.constant('replace' as const),
    value: fc.oneof(fc.constantFrom(...NASTY), fc.jsonValue({ maxDepth: 2 })),
  }),
  fc.record({
    at: fc.nat(),
    op: fc.constantFrom<NodeOp>('wrap', 'unwrap', 'flatten', 'drop-first', 'repeat', 'remove'),
  }),
);

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null &&
  typeof value === 'object' &&
  (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null);

function children(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isPlainObject(value)) return Object.values(value);
  return [];
}

const countNodes = (value: unknown): number =>
  1 + children(value).reduce<number>((n, c) => n + countNodes(c), 0);

function applyOp(value: unknown, edit: NodeEdit): unknown {
  if (edit.op === 'replace') return edit.value;
  if (edit.op === 'wrap') return [value];
  if (edit.op === 'remove') return undefined;
  if (!Array.isArray(value)) return value;
  const items = value as unknown[];
  switch (edit.op) {
    case 'unwrap':
      return items[0];
    case 'flatten':
      return items.flat(Infinity);
    case 'drop-first':
      return items.slice(1);
    case 'repeat':
      return [...items, ...items];
  }
}

/** The value with one node edited; objects are copied, never changed in place. */
export function editJson(root: unknown, edit: NodeEdit): unknown {
  let target = edit.at % countNodes(root);
  const visit = (value: unknown): unknown => {
    if (target-- === 0) return applyOp(value, edit);
    if (Array.isArray(value)) return value.map(visit);
    if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v)]));
    return value;
  };
  return visit(root);
}

export const editJsonAll = (root: unknown, edits: readonly NodeEdit[]): unknown =>
  edits.reduce(editJson, root);

/** One edit of a body's bytes; positions are taken modulo the length. */
export type ByteEdit =
  | { readonly op: 'truncate'; readonly at: number }
  | { readonly op: 'flip'; readonly at: number; readonly mask: number }
  | { readonly op: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly op: 'delete'; readonly at: number; readonly length: number };

/** What to insert into JSON text: structure, escapes, numbers no double holds, broken UTF-8. */
export const JSON_TOKENS: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc
    .constantFrom(
      '[',
      ']',
      '{',
      '}',
      '"',
      '\\',
      ',',
      ':',
      '-',
      '1e999',
      '[[[[[[[[',
      ']]]]',
      '"\\"',
      'null',
      '\ud800',
    )
    .map((text) => Buffer.from(text)),
  fc.uint8Array({ minLength: 1, maxLength: 4 }),
);

export function byteEditArb(tokens: fc.Arbitrary<Uint8Array>): fc.Arbitrary<ByteEdit> {
  return fc.oneof(
    fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: tokens }),
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  );
}

export function editBytes(body: Buffer, edit: ByteEdit): Buffer {
  const at = edit.at % (body.length + 1);
  switch (edit.op) {
    case 'truncate':
      return body.subarray(0, at);
    case 'flip': {
      if (body.length === 0) return body;
      const copy = Buffer.from(body);
      const i = at % body.length;
      copy[i] = (copy[i] ?? 0) ^ edit.mask;
      return copy;
    }
    case 'insert':
      return Buffer.concat([body.subarray(0, at), edit.bytes, body.subarray(at)]);
    case 'delete':
      return Buffer.concat([body.subarray(0, at), body.subarray(at + edit.length)]);
  }
}

export const editBytesAll = (body: Buffer, edits: readonly ByteEdit[]): Buffer =>
  edits.reduce(editBytes, body);
