import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrometheusMetrics } from './prometheus-metrics.js';
import type { ServedModel } from '../../core/registry/served-model.js';
import { SAMPLED_METRICS, metricsSample } from '../http/ui/logic/metrics-sample.js';
import { parsePrometheusText } from '../http/ui/logic/prometheus-text.js';

function servedModel(name: string, state: string, inFlight: number, queued: number): ServedModel {
  return {
    name,
    version: '1',
    state,
    queueDepth: { inFlight, queued },
    timings: undefined,
  } as unknown as ServedModel;
}

test("samplesOf gives the web page's history the same sample as the exposition text, from its few metrics", async () => {
  const metrics = new PrometheusMetrics({
    list: () => [servedModel('resnet', 'ready', 2, 5), servedModel('tiny', 'loading', 0, 0)],
  });
  const report = {
    model: 'resnet',
    version: '1',
    queueSeconds: 0.002,
    computeSeconds: 0.02,
    batchSize: 1,
    executionBatchSize: 3,
  } as const;
  metrics.inferenceDone({ ...report, outcome: 'success', execution: { batchSize: 3 } });
  metrics.inferenceDone({ ...report, outcome: 'success' });
  metrics.inferenceDone({ ...report, outcome: 'failure' });
  metrics.httpRequest('/predict', 'POST', 200, 0.004);
  metrics.httpRequest('/predict', 'POST', 200, 0.3);
  metrics.httpRequest('/predict', 'POST', 400, 0.001);
  metrics.httpRequest('/v2/health/ready', 'GET', 200, 0.0005);

  const fromText = metricsSample(parsePrometheusText(await metrics.text()), 1);
  const direct = metricsSample(await metrics.samplesOf(SAMPLED_METRICS), 1);
  assert.deepEqual(direct, fromText);
  // The comparison means something only if the sample is not empty.
  assert.deepEqual(
    direct.models.map((m) => [m.model, m.success, m.failure, m.ready, m.inFlight, m.queued]),
    [
      ['resnet', 2, 1, true, 2, 5],
      ['tiny', 0, 0, false, 0, 0],
    ],
  );
  assert.equal(direct.latency.count, 2, 'successful POSTs only');
  assert.equal(direct.batch.count, 1, 'one execution');
  assert.deepEqual(await metrics.samplesOf(['no_such_metric']), []);
});
