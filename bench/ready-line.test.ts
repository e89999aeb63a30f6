import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readyLine } from './ready-line.js';

test('readyLine finds the ready line whatever the field order, and waits for a whole line', () => {
  const listening = '{"level":"info","url":"http://127.0.0.1:4000","msg":"listening; loading the model"}\n';
  const ready = '{"level":"info","url":"http://127.0.0.1:4000","msg":"ready in 0.91 s: warm-up 3 ms"}\n';
  assert.equal(readyLine(listening), undefined);
  assert.equal(readyLine(listening + ready.slice(0, 30)), undefined);
  assert.deepEqual(readyLine(listening + ready), {
    message: 'ready in 0.91 s: warm-up 3 ms',
    url: 'http://127.0.0.1:4000',
  });
  assert.deepEqual(readyLine('{"msg":"ready in 1 s","url":"http://h:1"}\n')?.url, 'http://h:1');
});
