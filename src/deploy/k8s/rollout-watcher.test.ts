import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerState, DeploymentState, EventState, PodState, ReplicaSetState } from './cluster.js';
import type { ClusterFrame } from './testing/fake-cluster.js';
import { FakeCluster } from './testing/fake-cluster.js';
import type { RolloutResult } from './rollout-watcher.js';
import { assessRollout } from './assess-rollout.js';
import { formatFailure } from './format-failure.js';
import { watchRollout } from './rollout-watcher.js';

const OLD_HASH = '6d4cf56db6';
const NEW_HASH = '7f9b8c5d4e';

function deployment(fields: Partial<DeploymentState> = {}): DeploymentState {
  return {
    name: 'skiff',
    generation: 2,
    observedGeneration: 2,
    desiredReplicas: 2,
    replicas: 3,
    updatedReplicas: 1,
    readyReplicas: 2,
    availableReplicas: 2,
    revision: 2,
    conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' }],
    ...fields,
  };
}

const REPLICA_SETS: readonly ReplicaSetState[] = [
  { name: `skiff-${OLD_HASH}`, revision: 1, podTemplateHash: OLD_HASH, replicas: 2, readyReplicas: 2 },
  { name: `skiff-${NEW_HASH}`, revision: 2, podTemplateHash: NEW_HASH, replicas: 1, readyReplicas: 0 },
];

function container(fields: Partial<ContainerState> = {}): ContainerState {
  return { name: 'skiff', ready: false, started: false, restartCount: 0, ...fields };
}

function pod(name: string, hash: string, c: ContainerState, fields: Partial<PodState> = {}): PodState {
  return { name, podTemplateHash: hash, phase: 'Running', ready: c.ready, containers: [c], ...fields };
}

const OLD_PODS = [
  pod(`skiff-${OLD_HASH}-a1b2c`, OLD_HASH, container({ ready: true, started: true })),
  pod(`skiff-${OLD_HASH}-d3e4f`, OLD_HASH, container({ ready: true, started: true })),
];
const NEW_POD = `skiff-${NEW_HASH}-x7k2q`;

function event(reason: string, message: string, fields: Partial<EventState> = {}): EventState {
  return { type: 'Warning', reason, message, objectKind: 'Pod', objectName: NEW_POD, count: 1, ...fields };
}

function frame(
  newPod: ContainerState | undefined,
  events: EventState[],
  fields: Partial<ClusterFrame> = {},
): ClusterFrame {
  return {
    deployment: deployment(),
    replicaSets: REPLICA_SETS,
    pods: [...OLD_PODS, ...(newPod === undefined ? [] : [pod(NEW_POD, NEW_HASH, newPod)])],
    events,
    ...fields,
  };
}

async function watch(
  frames: ClusterFrame[],
  options: { rollback?: boolean; previousRevision?: number | undefined } = {},
): Promise<{ cluster: FakeCluster; result: RolloutResult; lines: string[]; report: string }> {
  const cluster = new FakeCluster(frames);
  let clock = 0;
  const lines: string[] = [];
  const result = await watchRollout({
    cluster,
    name: 'skiff',
    selector: 'app.kubernetes.io/instance=skiff',
    previousRevision: 'previousRevision' in options ? options.previousRevision : 1,
    rollback: options.rollback ?? true,
    pollIntervalMs: 2000,
    onProgress: (line) => lines.push(line),
    now: () => clock,
    sleep: (ms) => {
      clock += ms;
      cluster.advance();
      return Promise.resolve();
    },
  });
  return { cluster, result, lines, report: formatFailure('skiff', result) };
}

describe('rollout watcher', () => {
  test('a rollout that progresses to completion: progress lines, no rollback', async () => {
    const scheduled = event('Scheduled', 'Successfully assigned default/x to node-1', { type: 'Normal' });
    const { cluster, result, lines } = await watch([
      frame(container({ waiting: { reason: 'ContainerCreating' } }), [scheduled]),
      frame(container(), [
        scheduled,
        event('Unhealthy', 'Startup probe failed: HTTP probe failed with statuscode: 400'),
      ]),
      frame(container({ started: true, ready: true }), [], {
        deployment: deployment({ updatedReplicas: 1, availableReplicas: 2 }),
      }),
      frame(container({ started: true, ready: true }), [], {
        deployment: deployment({ updatedReplicas: 2, readyReplicas: 3, availableReplicas: 3 }),
      }),
      frame(undefined, [], {
        deployment: deployment({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 }),
      }),
    ]);
    assert.equal(result.verdict.state, 'complete');
    assert.deepEqual(cluster.rollbacks, []);
    assert.deepEqual(lines, [
      'rollout skiff (revision 2): 1/2 updated, 2/2 ready, 2/2 available',
      'rollout skiff (revision 2): 2/2 updated, 3/2 ready, 3/2 available',
      'rollout skiff (revision 2): 2/2 updated, 2/2 ready, 2/2 available',
    ]);
    assert.equal(formatFailure('skiff', result), '');
  });

  test('stuck on an image pull: rolled back to the previous revision, with the pull error and events', async () => {
    const pullFailed = event(
      'Failed',
      'Failed to pull image "registry.example/skiff:2.0": rpc error: code = NotFound desc = manifest unknown',
    );
    const { cluster, result, report } = await watch([
      frame(container({ waiting: { reason: 'ContainerCreating' } }), [
        event('Pulling', 'Pulling image "registry.example/skiff:2.0"', { type: 'Normal' }),
      ]),
      frame(container({ waiting: { reason: 'ErrImagePull', message: 'manifest unknown' } }), [pullFailed]),
      frame(container({ waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } }), [
        pullFailed,
        event('BackOff', 'Back-off pulling image "registry.example/skiff:2.0"', { type: 'Normal', count: 3 }),
      ]),
    ]);
    assert.equal(result.verdict.state, 'failed');
    assert.deepEqual(cluster.rollbacks, [{ deployment: 'skiff', toRevision: 1 }]);
    const first = report.split('\n')[0] ?? '';
    assert.match(
      first,
      /^rollout of skiff failed: the image cannot be pulled \(pod skiff-7f9b8c5d4e-x7k2q\): ImagePullBackOff: Failed to pull image "registry\.example\/skiff:2\.0".*manifest unknown; rolled back to revision 1$/,
    );
    assert.match(report, /events of skiff-7f9b8c5d4e-x7k2q:\n {2}Warning Failed /);
    assert.match(report, /\(x3\) Back-off pulling image/);
  });

  test("a crash loop: the reason, the exit code and the dead container's last log lines", async () => {
    const { cluster, result, report } = await watch([
      frame(container({ restartCount: 1, lastTerminated: { reason: 'Error', exitCode: 1 } }), []),
      frame(
        container({
          restartCount: 3,
          waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' },
          lastTerminated: { reason: 'Error', exitCode: 1 },
        }),
        [event('BackOff', 'Back-off restarting failed container skiff in pod', { count: 4 })],
        {
          logs: { [NEW_POD]: '' },
          previousLogs: {
            [NEW_POD]:
              '{"level":"info","msg":"fetching resnet50"}\nskiff: error: model "resnet5" is not in the zoo [SKIFF_MODEL_FILE_MISSING]\n',
          },
        },
      ),
    ]);
    assert.equal(result.verdict.state === 'failed' && result.verdict.reason, 'crash-loop');
    assert.deepEqual(cluster.rollbacks, [{ deployment: 'skiff', toRevision: 1 }]);
    assert.match(
      report,
      /^rollout of skiff failed: the server keeps crashing \(pod skiff-7f9b8c5d4e-x7k2q\): CrashLoopBackOff: the container keeps exiting \(last exit code 1, Error\); rolled back to revision 1\n/,
    );
    assert.match(
      report,
      /last log lines of skiff-7f9b8c5d4e-x7k2q:\n.*\n {2}skiff: error: model "resnet5" is not in the zoo/,
    );
  });

  test('a startup probe that never passes: kubelet restarts are reported as failing probes, not a crash', async () => {
    const unhealthy = event('Unhealthy', 'Startup probe failed: HTTP probe failed with statuscode: 400', {
      count: 60,
    });
    const killing = event('Killing', 'Container skiff failed startup probe, will be restarted', {
      type: 'Normal',
    });
    const { cluster, result, report } = await watch([
      frame(container(), [unhealthy]),
      frame(container({ restartCount: 2, lastTerminated: { reason: 'Error', exitCode: 137 } }), [
        unhealthy,
        killing,
      ]),
    ]);
    assert.equal(result.verdict.state === 'failed' && result.verdict.reason, 'probe-failing');
    assert.deepEqual(cluster.rollbacks, [{ deployment: 'skiff', toRevision: 1 }]);
    assert.match(
      report,
      /health probes are failing .*Startup probe failed: HTTP probe failed with statuscode: 400; rolled back/,
    );
  });

  test('a readiness probe failing on a started container', async () => {
    const readiness = (count: number): EventState =>
      event('Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 400', { count });
    const { cluster, result } = await watch([
      frame(container({ started: true }), [readiness(4)]),
      frame(container({ started: true }), [readiness(12)]),
    ]);
    assert.equal(result.verdict.state === 'failed' && result.verdict.reason, 'probe-failing');
    assert.match(result.verdict.state === 'failed' ? result.verdict.message : '', /\(12 times\)$/);
    assert.equal(cluster.rollbacks.length, 1);
  });

  test('the progress deadline: a timeout, reported with the stuck pod', async () => {
    const { cluster, result, report } = await watch([
      frame(container(), []),
      frame(container(), [], {
        deployment: deployment({
          conditions: [
            {
              type: 'Progressing',
              status: 'False',
              reason: 'ProgressDeadlineExceeded',
              message: 'ReplicaSet "skiff-7f9b8c5d4e" has timed out progressing.',
            },
          ],
        }),
      }),
    ]);
    assert.equal(result.verdict.state === 'failed' && result.verdict.reason, 'timeout');
    assert.deepEqual(cluster.rollbacks, [{ deployment: 'skiff', toRevision: 1 }]);
    assert.match(
      report,
      /^rollout of skiff failed: the rollout timed out \(pod skiff-7f9b8c5d4e-x7k2q\): ProgressDeadlineExceeded: ReplicaSet "skiff-7f9b8c5d4e" has timed out progressing\.; rolled back to revision 1/,
    );
  });

  test('an unschedulable pod is given a grace period, then fails the rollout', async () => {
    const pending = (): ClusterFrame => ({
      ...frame(undefined, [
        event('FailedScheduling', '0/3 nodes are available: 3 Insufficient memory.', { count: 5 }),
      ]),
      pods: [
        ...OLD_PODS,
        pod(NEW_POD, NEW_HASH, container({ waiting: { reason: 'ContainerCreating' } }), {
          phase: 'Pending',
          unschedulable: '0/3 nodes are available: 3 Insufficient memory.',
        }),
      ],
    });
    const { cluster, result, lines } = await watch(Array.from({ length: 40 }, pending));
    assert.equal(result.verdict.state === 'failed' && result.verdict.reason, 'unschedulable');
    assert.equal(lines.length, 1);
    assert.equal(cluster.rollbacks.length, 1);
  });

  test('--no-rollback: the failure is reported and nothing is rolled back', async () => {
    const { cluster, report } = await watch(
      [frame(container({ waiting: { reason: 'ImagePullBackOff' } }), [])],
      { rollback: false },
    );
    assert.deepEqual(cluster.rollbacks, []);
    assert.match(
      report.split('\n')[0] ?? '',
      /; not rolled back: automatic rollback is off \(--no-rollback\)$/,
    );
  });

  test('a failed first deploy has nothing to roll back to', async () => {
    const { cluster, report } = await watch(
      [
        frame(container({ waiting: { reason: 'InvalidImageName' } }), [], {
          deployment: deployment({ revision: 1 }),
          replicaSets: [
            {
              name: `skiff-${NEW_HASH}`,
              revision: 1,
              podTemplateHash: NEW_HASH,
              replicas: 1,
              readyReplicas: 0,
            },
          ],
        }),
      ],
      { previousRevision: undefined },
    );
    assert.deepEqual(cluster.rollbacks, []);
    assert.match(report, /the image cannot be pulled/);
    assert.match(report, /not rolled back: there is no earlier revision/);
  });

  test('pods are not judged before the controller has observed the new spec', () => {
    const crashing = pod(
      `skiff-${OLD_HASH}-a1b2c`,
      OLD_HASH,
      container({ restartCount: 5, waiting: { reason: 'CrashLoopBackOff' } }),
    );
    const snapshot = {
      deployment: deployment({ generation: 3, observedGeneration: 2, revision: 1 }),
      newPods: [crashing],
      events: [],
      elapsedMs: 1000,
    };
    assert.equal(assessRollout(snapshot).state, 'progressing');
    assert.equal(assessRollout({ ...snapshot, deployment: deployment({ revision: 1 }) }).state, 'failed');
  });

  test('an OOM-killed container names the memory limit', () => {
    const verdict = assessRollout({
      deployment: deployment(),
      newPods: [
        pod(
          NEW_POD,
          NEW_HASH,
          container({ restartCount: 2, lastTerminated: { reason: 'OOMKilled', exitCode: 137 } }),
        ),
      ],
      events: [],
      elapsedMs: 10_000,
    });
    assert.equal(verdict.state === 'failed' && verdict.reason, 'out-of-memory');
  });
});
