/**
 * JSON numbers beyond 2^53 as exact integers: `JSON.parse`'s reviver sees each number's source text and
 * `JSON.rawJSON` writes digits as they are (both in V8 since Node 22), so INT64 and UINT64 values travel
 * through JSON without rounding, as Triton's and KServe's Python clients write and read them.
 */

/** A value JSON.stringify writes as its raw text. */
export interface RawJsonNumber {
  readonly rawJSON: string;
}

interface ExactJson {
  rawJSON(text: string): RawJsonNumber;
  parse(
    text: string,
    reviver: (key: string, value: unknown, context: { readonly source?: string }) => unknown,
  ): unknown;
}

const JSON_WITH_SOURCE = JSON as unknown as ExactJson;
const INTEGER_SOURCE = /^-?\d+$/;
/** Digits of the shortest integer literal that may not be a safe integer. */
export const LONG_DIGITS = 16;
/**
 * An integer literal of LONG_DIGITS digits or more. Digits after a point or before a point or exponent belong
 * to a float (Python writes 17 significant digits for many), which the reviver would leave alone anyway.
 */
const LONG_INTEGER = new RegExp(`(?<![.\\d])\\d{${LONG_DIGITS},}(?![.\\deE])`);

/**
 * JSON.parse, except that integers outside ±(2^53 - 1) come back as bigint with their exact digits. The
 * reviver costs a call per value, so it only runs when the text holds a digit run long enough to need it:
 * `longDigits` says whether it does when the caller has looked already (json-body.ts, in its one pass over
 * the bytes); otherwise a regular expression looks.
 */
export function parseJsonExact(text: string, longDigits = LONG_INTEGER.test(text)): unknown {
  if (!longDigits) return JSON.parse(text) as unknown;
  return JSON_WITH_SOURCE.parse(text, (_key, value, context) => {
    if (typeof value !== 'number' || Number.isSafeInteger(value)) return value;
    const source = context.source;
    return source !== undefined && INTEGER_SOURCE.test(source) ? BigInt(source) : value;
  });
}

/** A 64-bit integer as JSON writes it: a plain number when exact, else its digits. */
export function exactJsonInteger(value: bigint): number | RawJsonNumber {
  const asNumber = Number(value);
  return Number.isSafeInteger(asNumber) ? asNumber : JSON_WITH_SOURCE.rawJSON(value.toString());
}

/** JSON.stringify for what a client sent, which may hold bigints from parseJsonExact (written as digits). */
export function stringifyExact(value: unknown): string | undefined {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? exactJsonInteger(v) : v));
}
