import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPinoLogger } from './pino-logger.js';

function capture(format: 'json' | 'pretty', level: 'debug' | 'info' | 'warn' | 'error' | 'silent') {
  const lines: string[] = [];
  const logger = createPinoLogger({ write: (text) => lines.push(text), format, level });
  return { logger, lines };
}

test('json: one object per line with a level word, an ISO time, the fields and msg', () => {
  const { logger, lines } = capture('json', 'info');
  logger.info('request', { requestId: 'abc', status: 200, skipped: undefined });
  assert.equal(lines.length, 1);
  const line = lines[0] ?? '';
  assert.ok(line.endsWith('}\n'));
  const record = JSON.parse(line) as Record<string, unknown>;
  assert.deepEqual(Object.keys(record).sort(), ['level', 'msg', 'requestId', 'status', 'time']);
  assert.equal(record.level, 'info');
  assert.equal(record.msg, 'request');
  assert.equal(record.requestId, 'abc');
  assert.equal(record.status, 200);
  assert.match(String(record.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

test('the level filters: below it nothing is written; silent writes nothing', () => {
  const warn = capture('json', 'warn');
  warn.logger.debug('d');
  warn.logger.info('i');
  warn.logger.warn('w');
  warn.logger.error('e');
  assert.deepEqual(
    warn.lines.map((l) => (JSON.parse(l) as { level: string }).level),
    ['warn', 'error'],
  );
  const silent = capture('json', 'silent');
  silent.logger.error('e');
  assert.deepEqual(silent.lines, []);
  const debug = capture('json', 'debug');
  debug.logger.debug('d', { x: 1 });
  assert.equal((JSON.parse(debug.lines[0] ?? '') as { level: string }).level, 'debug');
});

test('pretty: one readable line per event, not JSON', () => {
  const { logger, lines } = capture('pretty', 'info');
  logger.warn('queue is long', { model: 'resnet', depth: 3 });
  assert.match(lines[0] ?? '', /^\d\d:\d\d:\d\d\.\d{3} WARN {2}queue is long model=resnet depth=3\n$/);
});

test('a write that throws is dropped, never thrown to the caller', () => {
  const logger = createPinoLogger({
    write: () => {
      throw new Error('EPIPE');
    },
    format: 'json',
    level: 'info',
  });
  assert.doesNotThrow(() => logger.error('lost'));
});
