import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { DeploymentState, PodState } from '../../deploy/k8s/cluster.js';
import type { Manifest } from '../../deploy/k8s/manifest.js';
import type { ClusterFrame } from '../../deploy/k8s/testing/fake-cluster.js';
import { FakeCluster } from '../../deploy/k8s/testing/fake-cluster.js';
import { deleteCommand } from './delete.js';
import { deployCommand } from './deploy.js';
import { logsCommand } from './logs.js';
import { portForwardCommand } from './port-forward.js';
import type { CommandIo } from '../command-spec.js';
import { statusCommand } from './status.js';

function io(argv: string[], cwd = mkdtempSync(path.join(os.tmpdir(), 'skiff-deploy-'))) {
  const out = { stdout: '', stderr: '' };
  const value: CommandIo = {
    argv,
    env: {},
    cwd,
    stdout: (text) => (out.stdout += text),
    stderr: (text) => (out.stderr += text),
    stderrIsTty: false,
  };
  return { io: value, out };
}

function deployment(fields: Partial<DeploymentState>): DeploymentState {
  return {
    name: 'dogs',
    generation: 4,
    observedGeneration: 4,
    desiredReplicas: 2,
    replicas: 2,
    updatedReplicas: 2,
    readyReplicas: 2,
    availableReplicas: 2,
    revision: 4,
    conditions: [],
    ...fields,
  };
}

const READY_POD: PodState = {
  name: 'dogs-abc-1',
  podTemplateHash: 'abc',
  phase: 'Running',
  ready: true,
  ip: '10.1.0.7',
  nodeName: 'node-1',
  containers: [{ name: 'skiff', ready: true, started: true, restartCount: 0 }],
};

const COMPLETE: ClusterFrame = {
  deployment: deployment({}),
  replicaSets: [{ name: 'dogs-abc', revision: 4, podTemplateHash: 'abc', replicas: 2, readyReplicas: 2 }],
  pods: [READY_POD],
  service: {
    name: 'dogs',
    type: 'LoadBalancer',
    clusterIp: '10.96.0.10',
    externalAddresses: ['34.120.0.1'],
    ports: [{ name: 'http', port: 5000 }],
  },
  endpoints: ['10.1.0.7:5000'],
};

describe('skiff deploy with a fake cluster', () => {
  test('--dry-run prints the manifests and never connects', async () => {
    const { io: cli, out } = io(['--dry-run', '--app', 'dogs', '-o', 'yaml']);
    const code = await deployCommand(cli, () => Promise.reject(new Error('must not connect')));
    assert.equal(code, 0);
    const kinds = parseAllDocuments(out.stdout).map((d) => (d.toJS() as Manifest).kind);
    assert.deepEqual(kinds, ['Service', 'Deployment', 'PodDisruptionBudget', 'HorizontalPodAutoscaler']);
  });

  test('the deploy section of skiff.yaml is read, and flags win over it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-project-'));
    writeFileSync(
      path.join(dir, 'skiff.yaml'),
      'serve:\n  port: 5000\ndeploy:\n  app: dogs\n  replicas: 3\n  maxReplicas: 3\n  serviceType: LoadBalancer\n  image: registry.example/dogs:1\n',
    );
    const { io: cli, out } = io(['--dry-run', '-o', 'json', '--replicas', '4', '--max-replicas', '4'], dir);
    assert.equal(await deployCommand(cli), 0);
    const list = JSON.parse(out.stdout) as {
      items: { kind: string; metadata: { name: string }; spec: { replicas?: number; type?: string } }[];
    };
    assert.deepEqual(
      list.items.map((o) => `${o.kind}/${o.metadata.name}`),
      ['Service/dogs', 'Deployment/dogs', 'PodDisruptionBudget/dogs'],
    );
    assert.equal(list.items.find((o) => o.kind === 'Deployment')?.spec.replicas, 4);
    assert.equal(list.items.find((o) => o.kind === 'Service')?.spec.type, 'LoadBalancer');
  });

  test('a completed rollout: applied with the namespace shown, progress printed, exit 0', async () => {
    const cluster = new FakeCluster([COMPLETE], 'ml');
    const { io: cli, out } = io(['--app', 'dogs', '--image', 'registry.example/dogs:2']);
    assert.equal(await deployCommand(cli, () => Promise.resolve(cluster)), 0);
    assert.equal(cluster.applied.length, 1);
    assert.match(out.stderr, /^applying to namespace ml: Service\/dogs, Deployment\/dogs, /);
    assert.match(out.stderr, /rollout dogs \(revision 4\): 2\/2 updated, 2\/2 ready, 2\/2 available\n/);
    assert.match(out.stderr, /deployed dogs \(revision 4\)/);
  });

  test('a failed rollout: one error line with the code, rolled back to the revision before, exit 1', async () => {
    const failing: ClusterFrame = {
      ...COMPLETE,
      deployment: deployment({ revision: 5, updatedReplicas: 1, replicas: 3 }),
      replicaSets: [
        { name: 'dogs-abc', revision: 4, podTemplateHash: 'abc', replicas: 2, readyReplicas: 2 },
        { name: 'dogs-def', revision: 5, podTemplateHash: 'def', replicas: 1, readyReplicas: 0 },
      ],
      pods: [
        READY_POD,
        {
          ...READY_POD,
          name: 'dogs-def-1',
          podTemplateHash: 'def',
          ready: false,
          containers: [
            {
              name: 'skiff',
              ready: false,
              started: false,
              restartCount: 0,
              waiting: { reason: 'ImagePullBackOff' },
            },
          ],
        },
      ],
    };
    const cluster = new FakeCluster([COMPLETE, failing]);
    // The first getDeployment (before applying) sees revision 4; the apply moves the cluster to the failing frame.
    const apply = cluster.apply.bind(cluster);
    cluster.apply = async (objects) => {
      await apply(objects);
      cluster.advance();
    };
    const { io: cli, out } = io(['--app', 'dogs']);
    assert.equal(await deployCommand(cli, () => Promise.resolve(cluster)), 1);
    assert.deepEqual(cluster.rollbacks, [{ deployment: 'dogs', toRevision: 4 }]);
    assert.match(
      out.stderr,
      /\nskiff: error: rollout of dogs failed: the image cannot be pulled \(pod dogs-def-1\): ImagePullBackOff: .*; rolled back to revision 4 \[SKIFF_ROLLOUT_FAILED\]\n/,
    );
  });
});

describe('skiff status, port-forward and delete with a fake cluster', () => {
  test('status shows the rollout, pods, the external address and endpoints', async () => {
    const { io: cli, out } = io(['--app', 'dogs']);
    assert.equal(await statusCommand(cli, () => Promise.resolve(new FakeCluster([COMPLETE]))), 0);
    assert.match(
      out.stdout,
      /^rollout dogs \(revision 4\): 2\/2 updated, 2\/2 ready, 2\/2 available: rollout complete\n/,
    );
    assert.match(out.stdout, /dogs-abc-1 {2}ready {2}Running {2}restarts 0 {2}node-1 {2}10\.1\.0\.7/);
    assert.match(out.stdout, /external address: http:\/\/34\.120\.0\.1:5000/);
    assert.match(out.stdout, /endpoints: 10\.1\.0\.7:5000/);
  });

  test('status of an app that is not deployed is a SKIFF_NOT_DEPLOYED error', async () => {
    const { io: cli } = io(['--app', 'cats']);
    await assert.rejects(
      statusCommand(cli, () => Promise.resolve(new FakeCluster([COMPLETE]))),
      {
        code: 'SKIFF_NOT_DEPLOYED',
      },
    );
  });

  test('port-forward picks a ready pod and forwards to the HTTP port', async () => {
    const cluster = new FakeCluster([COMPLETE]);
    const { io: cli, out } = io(['--app', 'dogs', '--local-port', '0']);
    const code = await portForwardCommand(
      cli,
      () => Promise.resolve(cluster),
      () => Promise.resolve(),
    );
    assert.equal(code, 0);
    assert.deepEqual(cluster.portForwards, [{ pod: 'dogs-abc-1', localPort: 0, remotePort: 5000 }]);
    assert.match(out.stderr, /forwarding http:\/\/127\.0\.0\.1:50000 -> dogs-abc-1:5000/);
  });

  test('logs prints every pod, each line prefixed with its pod; -f streams until interrupted', async () => {
    const frame: ClusterFrame = {
      ...COMPLETE,
      pods: [READY_POD, { ...READY_POD, name: 'dogs-abc-22' }],
      logs: { 'dogs-abc-1': 'listening\nready in 1.2 s\n', 'dogs-abc-22': 'listening\n' },
    };
    for (const argv of [
      ['--app', 'dogs'],
      ['--app', 'dogs', '-f'],
    ]) {
      const { io: cli, out } = io(argv);
      const code = await logsCommand(
        cli,
        () => Promise.resolve(new FakeCluster([frame])),
        () => Promise.resolve(),
      );
      assert.equal(code, 0);
      assert.equal(
        out.stdout,
        'dogs-abc-1  | listening\ndogs-abc-1  | ready in 1.2 s\ndogs-abc-22 | listening\n',
      );
    }
  });

  test('delete removes by the instance and managed-by labels', async () => {
    const cluster = new FakeCluster([COMPLETE]);
    const { io: cli, out } = io(['--app', 'dogs']);
    assert.equal(await deleteCommand(cli, () => Promise.resolve(cluster)), 0);
    assert.deepEqual(cluster.deletedSelectors, [
      'app.kubernetes.io/managed-by=skiff,app.kubernetes.io/instance=dogs',
    ]);
    assert.match(out.stdout, /deleted Deployment\/skiff/);
  });
});
