// The built CLI: `skiff deploy --dry-run` prints valid manifests with no cluster; cluster commands fail in one line.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Service } from 'kubernetes-models/v1/Service';
import type { IService } from 'kubernetes-models/v1/Service';
import { defaultManifestsYaml } from '../../src/deploy/k8s/kustomize-base.js';
import { runCli } from '../helpers/run-cli.js';

const parse = (text: string): unknown[] => parseAllDocuments(text).map((d) => d.toJS() as unknown);

describe('skiff deploy --dry-run', () => {
  test('-o yaml prints schema-valid manifests equal to the kustomize base, on stdout only', async () => {
    const result = await runCli(['deploy', '--dry-run', '-o', 'yaml']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    const objects = parse(result.stdout) as { kind: string }[];
    assert.deepEqual(
      objects.map((o) => o.kind),
      ['Service', 'Deployment', 'PodDisruptionBudget', 'HorizontalPodAutoscaler'],
    );
    new Service(objects[0] as IService).validate();
    new Deployment(objects[1] as IDeployment).validate();
    new PodDisruptionBudget(objects[2] as IPodDisruptionBudget).validate();
    new HorizontalPodAutoscaler(objects[3] as IHorizontalPodAutoscaler).validate();
    assert.deepEqual(objects, parse(defaultManifestsYaml()));
  });

  test('-o json prints a v1 List; SKIFF_* variables set options', async () => {
    const result = await runCli(['deploy', '--dry-run', '-o', 'json', '-n', 'ml'], {
      env: { SKIFF_APP: 'dogs', SKIFF_MAX_REPLICAS: '1', SKIFF_REPLICAS: '1' },
    });
    assert.equal(result.code, 0, result.stderr);
    const list = JSON.parse(result.stdout) as {
      kind: string;
      items: { metadata: { name: string; namespace: string } }[];
    };
    assert.equal(list.kind, 'List');
    assert.deepEqual(
      list.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`),
      ['ml/dogs', 'ml/dogs', 'ml/dogs'],
    );
  });

  test('--target kserve and --target seldon render the alternatives', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-deploy-e2e-'));
    writeFileSync(path.join(dir, 'model.json'), '{"input":{"layout":"NCHW"}}\n');
    for (const [target, kind] of [
      ['kserve', 'InferenceService'],
      ['seldon', 'SeldonDeployment'],
    ] as const) {
      const result = await runCli(['deploy', '--dry-run', '--target', target, '--config', 'model.json'], {
        cwd: dir,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(
        (parse(result.stdout) as { kind: string }[]).map((o) => o.kind),
        ['ConfigMap', kind],
      );
    }
  });

  test('a bad value is one error line naming the option', async () => {
    const result = await runCli(['deploy', '--dry-run', '-o', 'xml']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^skiff: error: option --output-format: .*'yaml' \| 'json'.* \[SKIFF_CONFIG_INVALID\]\n$/,
    );
  });

  test('--help lists the options with their variables', async () => {
    const result = await runCli(['deploy', '--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /--no-rollback/);
    assert.match(result.stdout, /env SKIFF_SERVICE_TYPE, file key serviceType, default ClusterIP/);
  });
});

describe('cluster commands without a cluster', () => {
  test('a missing kubeconfig file: one line, SKIFF_KUBECONFIG_INVALID', async () => {
    const result = await runCli(['status', '--kubeconfig', '/nonexistent/kubeconfig']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^skiff: error: cannot load the kubeconfig \/nonexistent\/kubeconfig: .*\[SKIFF_KUBECONFIG_INVALID\]\n$/,
    );
  });

  test('an unknown --context names the contexts there are', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-kubeconfig-'));
    const kubeconfig = path.join(dir, 'config');
    writeFileSync(kubeconfig, kubeconfigFor('https://127.0.0.1:1'));
    const result = await runCli(['delete', '--kubeconfig', kubeconfig, '--context', 'gke']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /no context "gke" in the kubeconfig \(contexts: local\) \[SKIFF_KUBECONFIG_INVALID\]/,
    );
  });

  test('an unreachable API server: one line, SKIFF_CLUSTER_FAILED', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-kubeconfig-'));
    const kubeconfig = path.join(dir, 'config');
    writeFileSync(kubeconfig, kubeconfigFor('https://127.0.0.1:1'));
    const result = await runCli(['status', '--kubeconfig', kubeconfig]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^skiff: error: cannot read deployment skiff: .*ECONNREFUSED 127\.0\.0\.1:1 \[SKIFF_CLUSTER_FAILED\]\n$/,
    );
  });
});

function kubeconfigFor(server: string): string {
  return `apiVersion: v1
kind: Config
clusters:
  - name: local
    cluster: { server: '${server}' }
users:
  - name: me
    user: { token: test }
contexts:
  - name: local
    context: { cluster: local, user: me, namespace: ml }
current-context: local
`;
}
