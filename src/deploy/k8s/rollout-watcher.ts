import { SKIFF_SERVER } from './app-props.js';
import type { Cluster, DeploymentState, EventState, PodState, ReplicaSetState } from './cluster.js';

export type FailureReason =
  | 'image-pull'
  | 'crash-loop'
  | 'out-of-memory'
  | 'probe-failing'
  | 'config-error'
  | 'unschedulable'
  | 'replica-failure'
  | 'timeout';

export interface RolloutProgress {
  readonly desired: number;
  readonly updated: number;
  readonly ready: number;
  readonly available: number;
  readonly revision: number;
}

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

export function progressOf(deployment: DeploymentState): RolloutProgress {
  return {
    desired: deployment.desiredReplicas,
    updated: deployment.updatedReplicas,
    ready: deployment.readyReplicas,
    available: deployment.availableReplicas,
    revision: deployment.revision,
  };
}

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

export function formatProgress(name: string, progress: RolloutProgress): string {
  const d = progress.desired;
  return `rollout ${name} (revision ${progress.revision}): ${progress.updated}/${d} updated, ${progress.ready}/${d} ready, ${progress.available}/${d} available`;
}

export interface WatchOptions {
  readonly cluster: Cluster;
  readonly name: string;
  /** Selects the instance's ReplicaSets and pods. */
  readonly selector: string;
  /** The revision that was live before this apply; undefined on a first deploy. */
  readonly previousRevision: number | undefined;
  readonly rollback: boolean;
  readonly limits?: RolloutLimits | undefined;
  readonly pollIntervalMs?: number | undefined;
  readonly logLines?: number | undefined;
  readonly onProgress: (line: string) => void;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface FailureDiagnostics {
  readonly pod: string | undefined;
  readonly events: readonly EventState[];
  readonly logs: string;
}

export interface RolloutResult {
  readonly verdict: RolloutVerdict;
  readonly diagnostics?: FailureDiagnostics | undefined;
  /** The revision rolled back to, if the watcher rolled back. */
  readonly rolledBackTo?: number | undefined;
  /** Why no rollback happened after a failure (disabled, nothing to go back to, or the rollback call failed). */
  readonly rollbackSkipped?: string | undefined;
}

/**
 * Polls the Deployment until the rollout completes or fails; on failure gathers the failing pod's events
 * and last log lines and, unless disabled, rolls back to the revision that was live before.
 */
export async function watchRollout(options: WatchOptions): Promise<RolloutResult> {
  const { cluster, name } = options;
  const limits = options.limits ?? DEFAULT_LIMITS;
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const started = now();
  let lastLine = '';
  for (;;) {
    const deployment = await cluster.getDeployment(name);
    if (deployment === undefined) {
      throw new Error(`deployment ${name} disappeared during the rollout`);
    }
    const replicaSets = await cluster.listReplicaSets(options.selector);
    const current = replicaSets.find((rs) => rs.revision === deployment.revision);
    const pods =
      current === undefined
        ? []
        : (await cluster.listPods(options.selector)).filter(
            (p) => p.podTemplateHash === current.podTemplateHash,
          );
    const events = await cluster.listEvents([name, ...pods.map((p) => p.name)]);
    const verdict = assessRollout({ deployment, newPods: pods, events, elapsedMs: now() - started }, limits);
    const line = formatProgress(name, verdict.progress);
    if (line !== lastLine) {
      options.onProgress(line);
      lastLine = line;
    }
    if (verdict.state === 'complete') return { verdict };
    if (verdict.state === 'failed') {
      const diagnostics = await diagnose(cluster, verdict.pod, events, options.logLines ?? 20);
      return { verdict, diagnostics, ...(await maybeRollBack(options, deployment, replicaSets)) };
    }
    await sleep(options.pollIntervalMs ?? 2000);
  }
}

async function diagnose(
  cluster: Cluster,
  pod: string | undefined,
  events: readonly EventState[],
  logLines: number,
): Promise<FailureDiagnostics> {
  if (pod === undefined)
    return { pod, events: events.filter((e) => e.objectKind === 'Deployment'), logs: '' };
  const podEvents = events.filter((e) => e.objectName === pod);
  let logs = '';
  try {
    logs = await cluster.readLogs(pod, SKIFF_SERVER.containerName, logLines);
    // A crash-looping container's current log is often empty; the one that died holds the reason.
    if (logs.trim() === '') logs = await cluster.readLogs(pod, SKIFF_SERVER.containerName, logLines, true);
  } catch {
    logs = '';
  }
  return { pod, events: podEvents, logs };
}

async function maybeRollBack(
  options: WatchOptions,
  deployment: DeploymentState,
  replicaSets: readonly ReplicaSetState[],
): Promise<{ rolledBackTo?: number; rollbackSkipped?: string }> {
  if (!options.rollback) return { rollbackSkipped: 'automatic rollback is off (--no-rollback)' };
  const target =
    options.previousRevision ??
    Math.max(0, ...replicaSets.map((rs) => rs.revision).filter((r) => r < deployment.revision));
  if (target === 0 || target === deployment.revision) {
    return { rollbackSkipped: 'there is no earlier revision to roll back to (first deploy)' };
  }
  try {
    await options.cluster.rollback(options.name, target);
    return { rolledBackTo: target };
  } catch (error) {
    return {
      rollbackSkipped: `the rollback failed: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

const REASON_TEXT: Record<FailureReason, string> = {
  'image-pull': 'the image cannot be pulled',
  'crash-loop': 'the server keeps crashing',
  'out-of-memory': 'the server runs out of memory',
  'probe-failing': 'health probes are failing',
  'config-error': 'the container cannot be created',
  unschedulable: 'no node has room for the pod',
  'replica-failure': 'pods cannot be created',
  timeout: 'the rollout timed out',
};

/** The failure report: one line with the reason, then the failing pod's events and last log lines. */
export function formatFailure(name: string, result: RolloutResult): string {
  const verdict = result.verdict;
  if (verdict.state !== 'failed') return '';
  const outcome =
    result.rolledBackTo !== undefined
      ? `rolled back to revision ${result.rolledBackTo}`
      : `not rolled back: ${result.rollbackSkipped ?? 'unknown reason'}`;
  const lines = [
    `rollout of ${name} failed: ${REASON_TEXT[verdict.reason]}${verdict.pod === undefined ? '' : ` (pod ${verdict.pod})`}: ${verdict.message}; ${outcome}`,
  ];
  const diagnostics = result.diagnostics;
  if (diagnostics !== undefined && diagnostics.events.length > 0) {
    lines.push(`events${diagnostics.pod === undefined ? '' : ` of ${diagnostics.pod}`}:`);
    for (const e of diagnostics.events) {
      lines.push(
        `  ${e.type.padEnd(7)} ${e.reason.padEnd(16)} ${e.count > 1 ? `(x${e.count}) ` : ''}${e.message}`,
      );
    }
  }
  if (diagnostics !== undefined && diagnostics.logs.trim() !== '') {
    lines.push(`last log lines of ${diagnostics.pod ?? 'the pod'}:`);
    for (const line of diagnostics.logs.trimEnd().split('\n')) lines.push(`  ${line}`);
  }
  return `${lines.join('\n')}\n`;
}
