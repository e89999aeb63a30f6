import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prettyLine } from './pretty-line.js';

test('time of day, padded level, message, then key=value pairs in order', () => {
  const line = JSON.stringify({
    level: 'info',
    time: '2026-11-25T18:03:04.567Z',
    requestId: 'r-1',
    status: 200,
    path: '/predict',
    tags: ['a'],
    msg: 'request',
  });
  assert.equal(
    prettyLine(line),
    '18:03:04.567 INFO  request requestId=r-1 status=200 path=/predict tags=["a"]\n',
  );
});

test('a multi-line field (a stack) follows on indented lines', () => {
  const line = JSON.stringify({
    level: 'error',
    time: '2026-11-25T18:03:04.567Z',
    requestId: 'r-2',
    error: 'Error: boom\n    at f (x.js:1:1)',
    msg: 'request failed',
  });
  assert.equal(
    prettyLine(line),
    '18:03:04.567 ERROR request failed requestId=r-2\n    error: Error: boom\n        at f (x.js:1:1)\n',
  );
});

test('a line that is not a JSON object passes through', () => {
  assert.equal(prettyLine('plain text\n'), 'plain text\n');
  assert.equal(prettyLine('[1,2]\n'), '[1,2]\n');
});
