import { test } from 'node:test';
import assert from 'node:assert/strict';
import { predictionView, serverTimingMs } from './prediction-bars.js';

test('a /predict answer becomes bars with widths and percentages, in the order given', () => {
  const view = predictionView(200, {
    success: true,
    predictions: [
      { label: 'golden_retriever', probability: 0.9941 },
      { label: 'Labrador_retriever', probability: 0.0001 },
    ],
  });
  assert.deepEqual(view, {
    kind: 'bars',
    bars: [
      { label: 'golden_retriever', probability: 0.9941, widthPercent: 99.4, percentText: '99.4%' },
      { label: 'Labrador_retriever', probability: 0.0001, widthPercent: 0.5, percentText: '<0.1%' },
    ],
  });
});

test('errors show the server message and the status; odd shapes are named, not drawn', () => {
  assert.deepEqual(predictionView(400, { success: false, error: 'the image could not be decoded' }), {
    kind: 'error',
    message: 'the image could not be decoded (HTTP 400)',
  });
  assert.deepEqual(predictionView(502, 'Bad gateway'), {
    kind: 'error',
    message: 'the server answered 502 (HTTP 502)',
  });
  assert.equal(predictionView(200, { score: [1] }).kind, 'error');
  assert.equal(predictionView(200, { predictions: [{ label: 1 }] }).kind, 'error');
});

test('Server-Timing durations', () => {
  assert.equal(serverTimingMs('app;dur=12.5'), 12.5);
  assert.equal(serverTimingMs('cache;desc="x", app;desc="server";dur=3'), 3);
  assert.equal(serverTimingMs(null), undefined);
});
