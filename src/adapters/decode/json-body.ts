import { SkiffError } from '../../core/errors.js';
import { parseJsonExact } from '../../core/tensor/exact-json.js';

const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Parses a JSON body after checking its nesting, so a body of a million `[` is refused for what it is
 * before anything builds a million arrays (and before a recursive reader could overflow its stack).
 * Integers beyond 2^53 come back as bigint, exact (exact-json.ts). Throws SKIFF_BAD_REQUEST (not JSON) or
 * SKIFF_BAD_TENSOR (nested deeper than `maxDepth`).
 */
export function parseJsonBody(body: Uint8Array, maxDepth: number): unknown {
  checkDepth(body, maxDepth);
  try {
    return parseJsonExact(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    throw new SkiffError('SKIFF_BAD_REQUEST', 'the request body is not valid JSON');
  }
}

/** One pass over the bytes, skipping strings: brackets inside them do not nest. */
export function checkDepth(body: Uint8Array, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > maxDepth) {
        throw new SkiffError(
          'SKIFF_BAD_TENSOR',
          `the JSON body is nested too deeply (more than ${maxDepth} levels, --max-json-depth)`,
        );
      }
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) depth--;
  }
}
