import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrometheusText } from './prometheus-text.js';

test('reads names, labels (with escapes) and values, and skips comments and blank lines', () => {
  const text = [
    '# HELP skiff_model_ready 1 when ready',
    '# TYPE skiff_model_ready gauge',
    'skiff_model_ready{model="dog",version="1"} 1',
    '',
    'process_cpu_seconds_total 0.25 1700000000000',
    'odd{path="a\\"b\\\\c\\nd",x="1"} 2.5e-3',
    'skiff_batch_size_bucket{le="+Inf",model="m"} 7',
    'gauge_nan NaN',
  ].join('\n');
  assert.deepEqual(parsePrometheusText(text), [
    { name: 'skiff_model_ready', labels: { model: 'dog', version: '1' }, value: 1 },
    { name: 'process_cpu_seconds_total', labels: {}, value: 0.25 },
    { name: 'odd', labels: { path: 'a"b\\c\nd', x: '1' }, value: 0.0025 },
    { name: 'skiff_batch_size_bucket', labels: { le: '+Inf', model: 'm' }, value: 7 },
    { name: 'gauge_nan', labels: {}, value: NaN },
  ]);
});

test('a malformed line is skipped, not fatal', () => {
  const samples = parsePrometheusText(
    'good 1\nbad{model="x} 2\nworse{1="a"} 3\nnovalue\nalso_good{a="b",} 4',
  );
  assert.deepEqual(
    samples.map((s) => s.name),
    ['good', 'also_good'],
  );
});
