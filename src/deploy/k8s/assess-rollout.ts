import type { DeploymentState, EventState, PodState } from './cluster.js';
import type { RolloutProgress } from './rollout-progress.js';
import { progressOf } from './rollout-progress.js';

export type FailureReason =
  | 'image-pull'
  | 'crash-loop'
  | 'out-of-memory'
  | 'probe-failing'
  | 'config-error'
  | 'unschedulable'
  | 'replica-failure'
  | 'timeout';

export type RolloutVerdict =
  | { readonly state: 'progressing'; readonly progress: RolloutProgress }
  | { readonly state: 'complete'; readonly progress: RolloutProgress }
  | {
      readonly state: 'failed';
      readonly progress: RolloutProgress;
      readonly reason: FailureReason;
      readonly message: string;
      /** The pod that shows the failure, when one does. */
      readonly pod?: string | undefined;
    };

/** What the watcher sees on one poll. */
export interface RolloutSnapshot {
  readonly deployment: DeploymentState;
  /** Pods of the revision being rolled out. */
  readonly newPods: readonly PodState[];
  /** Events about those pods and the Deployment. */
  readonly events: readonly EventState[];
  readonly elapsedMs: number;
}

export interface RolloutLimits {
  /** Give up after this long even if the Deployment's own progress deadline has not fired. */
  readonly timeoutMs: number;
  /** A pod may wait this long for a node (the cluster autoscaler may be adding one). */
  readonly unschedulableGraceMs: number;
  /** Readiness probe failures on a started container before the rollout is called failed. */
  readonly readinessFailures: number;
}

export const DEFAULT_LIMITS: RolloutLimits = Object.freeze({
  timeoutMs: 660_000,
  unschedulableGraceMs: 60_000,
  readinessFailures: 12,
});

const IMAGE_PULL_FAILURES = new Set(['ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
const CONFIG_FAILURES = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

/**
 * One step of the rollout state machine: progressing until every desired pod of the new revision is
 * available and no old pod is left (as `kubectl rollout status` decides), failed as soon as a pod shows a
 * failure that will not fix itself. Pure: the same snapshot always gives the same verdict.
 */
export function assessRollout(
  snapshot: RolloutSnapshot,
  limits: RolloutLimits = DEFAULT_LIMITS,
): RolloutVerdict {
  const { deployment, newPods, events } = snapshot;
  const progress = progressOf(deployment);
  const failed = (reason: FailureReason, message: string, pod?: string): RolloutVerdict => ({
    state: 'failed',
    progress,
    reason,
    message,
    pod,
  });
  if (
    deployment.observedGeneration >= deployment.generation &&
    deployment.updatedReplicas >= deployment.desiredReplicas &&
    deployment.replicas <= deployment.updatedReplicas &&
    deployment.availableReplicas >= deployment.desiredReplicas
  ) {
    return { state: 'complete', progress };
  }

  // Until the controller has seen the new spec, "the current revision" is still the old one: judging its pods
  // would blame this deploy for the previous one's failures.
  const observed = deployment.observedGeneration >= deployment.generation;
  for (const pod of observed ? newPods : []) {
    const podEvents = events.filter((e) => e.objectKind === 'Pod' && e.objectName === pod.name);
    for (const container of pod.containers) {
      const waiting = container.waiting;
      if (waiting !== undefined && IMAGE_PULL_FAILURES.has(waiting.reason)) {
        const pull = lastEvent(podEvents, (e) => e.reason === 'Failed' && /pull/i.test(e.message));
        return failed(
          'image-pull',
          `${waiting.reason}: ${pull?.message ?? waiting.message ?? 'the image cannot be pulled'}`,
          pod.name,
        );
      }
      if (waiting !== undefined && CONFIG_FAILURES.has(waiting.reason)) {
        return failed(
          'config-error',
          `${waiting.reason}: ${waiting.message ?? 'the container cannot be created'}`,
          pod.name,
        );
      }
      const restartedByProbe = lastEvent(
        podEvents,
        (e) => e.reason === 'Unhealthy' && /^(Startup|Liveness) probe failed/.test(e.message),
      );
      const crashLooping = waiting?.reason === 'CrashLoopBackOff';
      if (restartedByProbe !== undefined && (crashLooping || container.restartCount >= 2)) {
        return failed('probe-failing', restartedByProbe.message, pod.name);
      }
      if (container.lastTerminated?.reason === 'OOMKilled' && (crashLooping || container.restartCount >= 2)) {
        return failed(
          'out-of-memory',
          'the container was killed for exceeding its memory limit (OOMKilled); raise it with --model-bytes or fewer --workers',
          pod.name,
        );
      }
      if (crashLooping) {
        const last = container.lastTerminated;
        return failed(
          'crash-loop',
          `CrashLoopBackOff: the container keeps exiting${last === undefined ? '' : ` (last exit code ${last.exitCode}, ${last.reason})`}`,
          pod.name,
        );
      }
      if (container.started && !container.ready) {
        const readiness = podEvents.filter(
          (e) => e.reason === 'Unhealthy' && e.message.startsWith('Readiness probe failed'),
        );
        const count = readiness.reduce((sum, e) => sum + e.count, 0);
        if (count >= limits.readinessFailures) {
          return failed(
            'probe-failing',
            `${readiness.at(-1)?.message ?? 'Readiness probe failed'} (${count} times)`,
            pod.name,
          );
        }
      }
    }
    if (pod.unschedulable !== undefined && snapshot.elapsedMs >= limits.unschedulableGraceMs) {
      return failed('unschedulable', `no node can run the pod: ${pod.unschedulable}`, pod.name);
    }
  }

  const replicaFailure = deployment.conditions.find(
    (c) => c.type === 'ReplicaFailure' && c.status === 'True',
  );
  if (replicaFailure !== undefined) {
    return failed(
      'replica-failure',
      `${replicaFailure.reason ?? 'ReplicaFailure'}: ${replicaFailure.message ?? ''}`.trim(),
    );
  }
  const progressing = deployment.conditions.find((c) => c.type === 'Progressing');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    return failed(
      'timeout',
      `ProgressDeadlineExceeded: ${progressing.message ?? 'the rollout made no progress in time'}`,
      stuckPod(newPods),
    );
  }
  if (snapshot.elapsedMs >= limits.timeoutMs) {
    return failed(
      'timeout',
      `the rollout did not finish within ${Math.round(limits.timeoutMs / 1000)} s`,
      stuckPod(newPods),
    );
  }
  return { state: 'progressing', progress };
}

function lastEvent(events: readonly EventState[], match: (e: EventState) => boolean): EventState | undefined {
  return events.filter(match).at(-1);
}

function stuckPod(pods: readonly PodState[]): string | undefined {
  return pods.find((p) => !p.ready)?.name;
}
