import { SKIFF_SERVER } from './app-props.js';
import type { RolloutLimits, RolloutVerdict } from './assess-rollout.js';
import { DEFAULT_LIMITS, assessRollout } from './assess-rollout.js';
import type { Cluster, DeploymentState, EventState, ReplicaSetState } from './cluster.js';
import { formatProgress } from './rollout-progress.js';

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
