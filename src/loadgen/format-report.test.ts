import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReport } from './format-report.js';
import { StepTally } from './step-tally.js';

test('failures are named by their protocol: HTTP statuses, gRPC status names, no answer', () => {
  const tally = new StepTally();
  tally.record({ ok: true, status: 'OK' }, 3);
  tally.record({ ok: false, status: 404, message: 'no model named "x"' }, 1);
  tally.record({ ok: false, status: 'UNAVAILABLE', message: 'the model is loading' }, 1);
  tally.record({ ok: false, status: 'UNAVAILABLE', message: 'the model is loading' }, 1);
  tally.record({ ok: false, status: 0, message: 'connect ECONNREFUSED' }, 1);
  const step = tally.result('c=1', { concurrency: 1 });
  const text = formatReport({ steps: [step], ok: step.ok, errors: step.errors });
  assert.match(text, /^c=1: 1 x HTTP 404: no model named "x"$/m);
  assert.match(text, /^c=1: 2 x gRPC UNAVAILABLE: the model is loading$/m);
  assert.match(text, /^c=1: 1 x no answer: connect ECONNREFUSED$/m);
  assert.match(text, /^c=1\s.*\s1\s+4$/m);
});
