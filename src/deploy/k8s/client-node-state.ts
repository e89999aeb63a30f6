import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { Condition, DeploymentState, PodState, ReplicaSetState } from './cluster.js';

export function toDeploymentState(deployment: V1Deployment): DeploymentState {
  const status = deployment.status;
  return {
    name: deployment.metadata?.name ?? '',
    generation: deployment.metadata?.generation ?? 0,
    observedGeneration: status?.observedGeneration ?? 0,
    desiredReplicas: deployment.spec?.replicas ?? 1,
    replicas: status?.replicas ?? 0,
    updatedReplicas: status?.updatedReplicas ?? 0,
    readyReplicas: status?.readyReplicas ?? 0,
    availableReplicas: status?.availableReplicas ?? 0,
    revision: revisionOf(deployment.metadata?.annotations),
    conditions: (status?.conditions ?? []).map((c): Condition => ({
      type: c.type,
      status: c.status === 'True' || c.status === 'False' ? c.status : 'Unknown',
      reason: c.reason,
      message: c.message,
    })),
  };
}

export function toReplicaSetState(rs: V1ReplicaSet): ReplicaSetState {
  return {
    name: rs.metadata?.name ?? '',
    revision: revisionOf(rs.metadata?.annotations),
    podTemplateHash: rs.metadata?.labels?.['pod-template-hash'] ?? '',
    replicas: rs.status?.replicas ?? 0,
    readyReplicas: rs.status?.readyReplicas ?? 0,
  };
}

export function toPodState(pod: V1Pod): PodState {
  const conditions = pod.status?.conditions ?? [];
  const scheduled = conditions.find((c) => c.type === 'PodScheduled');
  return {
    name: pod.metadata?.name ?? '',
    podTemplateHash: pod.metadata?.labels?.['pod-template-hash'] ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    ready: conditions.some((c) => c.type === 'Ready' && c.status === 'True'),
    ip: pod.status?.podIP,
    nodeName: pod.spec?.nodeName,
    unschedulable:
      scheduled?.status === 'False' && scheduled.reason === 'Unschedulable'
        ? (scheduled.message ?? 'Unschedulable')
        : undefined,
    containers: (pod.status?.containerStatuses ?? []).map((c) => ({
      name: c.name,
      ready: c.ready,
      started: c.started ?? false,
      restartCount: c.restartCount,
      waiting:
        c.state?.waiting === undefined
          ? undefined
          : { reason: c.state.waiting.reason ?? 'Waiting', message: c.state.waiting.message },
      lastTerminated:
        c.lastState?.terminated === undefined
          ? undefined
          : {
              reason: c.lastState.terminated.reason ?? 'Terminated',
              exitCode: c.lastState.terminated.exitCode,
            },
    })),
  };
}

export function revisionOf(annotations: Record<string, string> | undefined): number {
  return Number(annotations?.['deployment.kubernetes.io/revision'] ?? 0) || 0;
}
