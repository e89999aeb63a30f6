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

test('control characters and bidi overrides a client put in a field are escaped, so no line can be forged', () => {
  const line = JSON.stringify({
    level: 'info',
    time: '2026-12-06T01:02:03.456Z',
    msg: 'request',
    model: 'evil\r12:00:00.000 INFO  request status=200\u001b[2J\u0007\u202e\nFORGED',
    path: '/v2/models/a\u0000b/infer',
  });
  const pretty = prettyLine(line);
  assert.equal(pretty.split('\n').length, 2, 'one line and its newline');
  for (const raw of ['\r', '\u0000', '\u0007', '\u001b', '\u202e']) assert.ok(!pretty.includes(raw));
  assert.match(
    pretty,
    /model=evil\\u000d12:00:00\.000 INFO {2}request status=200\\u001b\[2J\\u0007\\u202e\\u000aFORGED/,
  );
  assert.match(pretty, /path=\/v2\/models\/a\\u0000b\/infer/);
});
