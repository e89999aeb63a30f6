import assert from 'node:assert/strict';
import { SkiffError } from '../../src/core/errors.js';

/** For `assert.rejects`/`assert.throws`: a SkiffError with this code, and a message matching `pattern`. */
export function skiffErrorMatcher(code: string, pattern?: RegExp): (error: unknown) => boolean {
  return (error: unknown): boolean => {
    assert.ok(error instanceof SkiffError, `expected a SkiffError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (pattern !== undefined) assert.match(error.message, pattern);
    return true;
  };
}
