// Opt-in, against a real cluster: SKIFF_E2E_KUBECONFIG=<file> (and optionally SKIFF_E2E_CONTEXT,
// SKIFF_E2E_NAMESPACE, SKIFF_E2E_IMAGE, SKIFF_E2E_MODEL). The image must be pullable by the cluster
// (Minikube: `minikube image load skiff:latest`). Covers deploy -> rollout -> port-forward -> predict ->
// failed rollout -> automatic rollback -> delete.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ClientNodeCluster } from '../../src/deploy/k8s/client-node-cluster.js';
import { instanceSelector } from '../../src/deploy/k8s/labels.js';
import { testImage } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';
import { postImage } from '../helpers/test-server.js';

const kubeconfig = process.env.SKIFF_E2E_KUBECONFIG;
const skip =
  kubeconfig === undefined || kubeconfig === ''
    ? 'no cluster: set SKIFF_E2E_KUBECONFIG=<kubeconfig file> to run the real-cluster end-to-end test'
    : false;
const app = `skiff-e2e-${process.pid}`;
const image = process.env.SKIFF_E2E_IMAGE ?? 'skiff:latest';
const cluster = [
  '--kubeconfig',
  kubeconfig ?? '',
  '--app',
  app,
  ...(process.env.SKIFF_E2E_CONTEXT === undefined ? [] : ['--context', process.env.SKIFF_E2E_CONTEXT]),
  ...(process.env.SKIFF_E2E_NAMESPACE === undefined ? [] : ['--namespace', process.env.SKIFF_E2E_NAMESPACE]),
];
const deployFlags = [
  ...cluster,
  '--image',
  image,
  '--model',
  process.env.SKIFF_E2E_MODEL ?? 'squeezenet1.1',
  '--replicas',
  '1',
  '--max-replicas',
  '1',
];
const TEN_MINUTES = 600_000;

describe('a real cluster', { skip }, () => {
  before(async () => {
    await runCli(['delete', ...cluster]);
  });
  after(async () => {
    await runCli(['delete', ...cluster]);
  });

  test(
    'deploy rolls out and the pod answers a prediction through port-forward',
    { timeout: TEN_MINUTES },
    async () => {
      const deployed = await runCli(['deploy', ...deployFlags], { timeoutMs: TEN_MINUTES });
      assert.equal(deployed.code, 0, deployed.stderr);
      assert.match(deployed.stderr, /deployed skiff-e2e-\d+ \(revision 1\)/);

      const status = await runCli(['status', ...cluster]);
      assert.equal(status.code, 0, status.stdout + status.stderr);
      assert.match(status.stdout, /rollout complete/);

      const connection = ClientNodeCluster.connect({
        kubeconfig,
        context: process.env.SKIFF_E2E_CONTEXT,
        namespace: process.env.SKIFF_E2E_NAMESPACE,
      });
      const pod = (await connection.listPods(instanceSelector(app))).find((p) => p.ready);
      assert.ok(pod, 'no ready pod');
      const forward = await connection.portForward(pod.name, 0, 5000);
      try {
        const response = await postImage(
          `http://127.0.0.1:${forward.localPort}/predict`,
          readFileSync(testImage('hotdog.jpg')),
        );
        assert.equal(response.status, 200);
        const body = (await response.json()) as { success: boolean; predictions: { label: string }[] };
        assert.equal(body.success, true);
        // SqueezeNet 1.1 (the default here) says hotdog 0.85 for it, MobileNet V2 0.98.
        assert.match(body.predictions[0]?.label ?? '', /hotdog/);
      } finally {
        await forward.close();
      }
    },
  );

  test(
    'a rollout to an image that does not exist fails, is rolled back, and says why',
    { timeout: TEN_MINUTES },
    async () => {
      const failed = await runCli(
        [
          'deploy',
          ...deployFlags,
          '--image',
          'registry.invalid/skiff-e2e/missing:0',
          '--image-pull-policy',
          'Always',
        ],
        { timeoutMs: TEN_MINUTES },
      );
      assert.equal(failed.code, 1);
      assert.match(
        failed.stderr,
        /skiff: error: rollout of .* failed: the image cannot be pulled .*rolled back to revision 1/,
      );

      const status = await runCli(['status', ...cluster]);
      assert.match(status.stdout, /rollout complete/);
    },
  );

  test('delete removes everything by label', async () => {
    const deleted = await runCli(['delete', ...cluster]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, new RegExp(`deleted Deployment/${app}`));
    const status = await runCli(['status', ...cluster]);
    assert.equal(status.code, 1);
    assert.match(status.stderr, /SKIFF_NOT_DEPLOYED/);
  });
});
