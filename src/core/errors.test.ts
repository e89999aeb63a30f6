import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SkiffError } from './errors.js';

test('a request refused, cancelled or out of time carries no stack trace; a fault keeps its own', () => {
  const limit = Error.stackTraceLimit;
  for (const code of ['SKIFF_CANCELLED', 'SKIFF_TIMEOUT', 'SKIFF_QUEUE_FULL'] as const) {
    const error = new SkiffError(code, 'gone');
    assert.equal(error.stack, 'SkiffError: gone', code);
    assert.equal(error.message, 'gone');
  }
  const fault = new SkiffError('SKIFF_INTERNAL', 'broken');
  assert.match(fault.stack ?? '', /^SkiffError: broken\n\s+at /);
  const bad = new SkiffError('SKIFF_BAD_REQUEST', 'no');
  assert.match(bad.stack ?? '', /\n\s+at /);
  assert.equal(Error.stackTraceLimit, limit, 'the process-wide limit is left as it was');
});
