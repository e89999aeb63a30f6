import type { Manifest } from '../manifest.js';
import type {
  Cluster,
  DeploymentState,
  EventState,
  PodState,
  PortForwardHandle,
  ReplicaSetState,
  ServiceState,
} from '../cluster.js';

/** What the cluster looks like between two polls. */
export interface ClusterFrame {
  readonly deployment?: DeploymentState | undefined;
  readonly replicaSets?: readonly ReplicaSetState[];
  readonly pods?: readonly PodState[];
  readonly events?: readonly EventState[];
  readonly service?: ServiceState | undefined;
  readonly endpoints?: readonly string[];
  /** Log text per pod name; `previous` per pod name for the container that died before. */
  readonly logs?: Readonly<Record<string, string>>;
  readonly previousLogs?: Readonly<Record<string, string>>;
}

/**
 * A scripted cluster: it shows one frame at a time and moves to the next on `advance()` (the watcher's
 * fake sleep calls it), staying on the last. It records every write so tests can assert on them.
 */
export class FakeCluster implements Cluster {
  readonly namespace: string;
  readonly applied: Manifest[][] = [];
  readonly rollbacks: { deployment: string; toRevision: number }[] = [];
  readonly deletedSelectors: string[] = [];
  readonly portForwards: { pod: string; localPort: number; remotePort: number }[] = [];
  rollbackError: Error | undefined;
  private index = 0;

  constructor(
    private readonly frames: readonly ClusterFrame[],
    namespace = 'default',
  ) {
    this.namespace = namespace;
  }

  get frame(): ClusterFrame {
    return this.frames[Math.min(this.index, this.frames.length - 1)] ?? {};
  }

  advance(): void {
    this.index += 1;
  }

  apply(objects: readonly Manifest[]): Promise<void> {
    this.applied.push([...objects]);
    return Promise.resolve();
  }

  getDeployment(name: string): Promise<DeploymentState | undefined> {
    const deployment = this.frame.deployment;
    return Promise.resolve(deployment?.name === name ? deployment : undefined);
  }

  listReplicaSets(): Promise<readonly ReplicaSetState[]> {
    return Promise.resolve(this.frame.replicaSets ?? []);
  }

  listPods(): Promise<readonly PodState[]> {
    return Promise.resolve(this.frame.pods ?? []);
  }

  listEvents(objectNames: readonly string[]): Promise<readonly EventState[]> {
    return Promise.resolve((this.frame.events ?? []).filter((e) => objectNames.includes(e.objectName)));
  }

  getService(name: string): Promise<ServiceState | undefined> {
    const service = this.frame.service;
    return Promise.resolve(service?.name === name ? service : undefined);
  }

  getEndpoints(): Promise<readonly string[]> {
    return Promise.resolve(this.frame.endpoints ?? []);
  }

  readLogs(pod: string, _container: string, tailLines: number, previous = false): Promise<string> {
    const text = (previous ? this.frame.previousLogs : this.frame.logs)?.[pod] ?? '';
    return Promise.resolve(
      text
        .split('\n')
        .slice(-tailLines - 1)
        .join('\n'),
    );
  }

  followLogs(pod: string, _container: string, onLine: (line: string) => void): Promise<void> {
    for (const line of (this.frame.logs?.[pod] ?? '').split('\n')) if (line !== '') onLine(line);
    return Promise.resolve();
  }

  rollback(deployment: string, toRevision: number): Promise<void> {
    if (this.rollbackError !== undefined) return Promise.reject(this.rollbackError);
    this.rollbacks.push({ deployment, toRevision });
    return Promise.resolve();
  }

  deleteByLabel(labelSelector: string): Promise<readonly string[]> {
    this.deletedSelectors.push(labelSelector);
    return Promise.resolve(['Deployment/skiff', 'Service/skiff']);
  }

  portForward(pod: string, localPort: number, remotePort: number): Promise<PortForwardHandle> {
    this.portForwards.push({ pod, localPort, remotePort });
    return Promise.resolve({
      localPort: localPort === 0 ? 50000 : localPort,
      close: () => Promise.resolve(),
    });
  }
}
