import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricsSample } from './metrics-sample.js';
import { parsePrometheusText } from './prometheus-text.js';

const TEXT = `
nv_inference_request_success{model="dog",version="1"} 3
nv_inference_request_failure{model="dog",version="1"} 1
skiff_model_ready{model="dog",version="1"} 1
skiff_inflight_requests{model="dog",version="1"} 0
skiff_queued_requests{model="dog",version="1"} 2
skiff_model_ready{model="cat",version="2"} 0
skiff_batch_size_bucket{le="1",model="dog",version="1"} 2
skiff_batch_size_bucket{le="2",model="dog",version="1"} 3
skiff_batch_size_bucket{le="+Inf",model="dog",version="1"} 3
skiff_batch_size_sum{model="dog",version="1"} 4
skiff_batch_size_count{model="dog",version="1"} 3
skiff_http_request_duration_seconds_bucket{le="0.1",route="/predict",method="POST",status="200"} 2
skiff_http_request_duration_seconds_bucket{le="1",route="/predict",method="POST",status="200"} 3
skiff_http_request_duration_seconds_bucket{le="+Inf",route="/predict",method="POST",status="200"} 3
skiff_http_request_duration_seconds_sum{route="/predict",method="POST",status="200"} 0.75
skiff_http_request_duration_seconds_count{route="/predict",method="POST",status="200"} 3
skiff_http_request_duration_seconds_bucket{le="0.1",route="/v2/models/:model/infer",method="POST",status="200"} 1
skiff_http_request_duration_seconds_bucket{le="1",route="/v2/models/:model/infer",method="POST",status="200"} 1
skiff_http_request_duration_seconds_bucket{le="+Inf",route="/v2/models/:model/infer",method="POST",status="200"} 1
skiff_http_request_duration_seconds_sum{route="/v2/models/:model/infer",method="POST",status="200"} 0.25
skiff_http_request_duration_seconds_count{route="/v2/models/:model/infer",method="POST",status="200"} 1
skiff_http_request_duration_seconds_bucket{le="0.1",route="/predict",method="POST",status="400"} 9
skiff_http_request_duration_seconds_bucket{le="1",route="/predict",method="POST",status="400"} 9
skiff_http_request_duration_seconds_bucket{le="+Inf",route="/predict",method="POST",status="400"} 9
skiff_http_request_duration_seconds_count{route="/predict",method="POST",status="400"} 9
skiff_http_request_duration_seconds_count{route="/metrics",method="GET",status="200"} 50
`;

test('a scrape becomes per-model counters, the 2xx POST latency and the batch sizes', () => {
  const sample = metricsSample(parsePrometheusText(TEXT), 1000);
  assert.deepEqual(sample, {
    timeMs: 1000,
    models: [
      { model: 'cat', version: '2', success: 0, failure: 0, ready: false, inFlight: 0, queued: 0 },
      { model: 'dog', version: '1', success: 3, failure: 1, ready: true, inFlight: 0, queued: 2 },
    ],
    latency: { bounds: [0.1, 1], cumulative: [3, 4], count: 4, sum: 1 },
    batch: { bounds: [1, 2], cumulative: [2, 3], count: 3, sum: 4 },
  });
});

test('an empty scrape gives empty histograms and no models', () => {
  const sample = metricsSample([], 5);
  assert.deepEqual(sample.models, []);
  assert.equal(sample.latency.count, 0);
  assert.equal(sample.batch.count, 0);
});
