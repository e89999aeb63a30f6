import type { DeploymentState } from './cluster.js';

export interface RolloutProgress {
  readonly desired: number;
  readonly updated: number;
  readonly ready: number;
  readonly available: number;
  readonly revision: number;
}

export function progressOf(deployment: DeploymentState): RolloutProgress {
  return {
    desired: deployment.desiredReplicas,
    updated: deployment.updatedReplicas,
    ready: deployment.readyReplicas,
    available: deployment.availableReplicas,
    revision: deployment.revision,
  };
}

export function formatProgress(name: string, progress: RolloutProgress): string {
  const d = progress.desired;
  return `rollout ${name} (revision ${progress.revision}): ${progress.updated}/${d} updated, ${progress.ready}/${d} ready, ${progress.available}/${d} available`;
}
