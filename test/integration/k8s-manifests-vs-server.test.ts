// The rendered Deployment must agree with the real server: every SKIFF_* variable it sets is one `skiff serve`
// reads, and the probe paths answer 200 on a started, warmed-up server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { SERVE_OPTIONS } from '../../src/config/serve-options.js';
import { envOf } from '../../src/config/option-table.js';
import { buildDeployment } from '../../src/deploy/k8s/build-workload.js';
import { appProps } from '../../src/deploy/k8s/testing/app-props.js';
import type { RunningServer } from '../../src/server.js';
import { fixtureModel } from '../helpers/paths.js';
import { startTestServer } from '../helpers/test-server.js';

const deployment: IDeployment = buildDeployment(
  appProps({
    model: 'https://models.example/m.onnx',
    labels: '/app/model/labels.txt',
    modelConfigJson: '{}',
  }),
);
const container = deployment.spec?.template.spec?.containers[0];

let server: RunningServer;
before(async () => {
  server = await startTestServer({ model: fixtureModel('tiny-color/model.onnx') });
});
after(() => server.close());

test('every SKIFF_* variable in the pod is a skiff serve option', () => {
  const known = new Set(SERVE_OPTIONS.map((o) => envOf(o)));
  for (const { name } of container?.env ?? []) {
    assert.ok(known.has(name), `${name} is not read by skiff serve`);
  }
});

test('the startup, readiness and liveness probe paths answer 200 on a ready server', async () => {
  const probes = [container?.startupProbe, container?.readinessProbe, container?.livenessProbe];
  for (const probe of probes) {
    const path = probe?.httpGet?.path;
    assert.ok(path !== undefined);
    const response = await fetch(`${server.url}${path}`);
    assert.equal(response.status, 200, path);
  }
});
