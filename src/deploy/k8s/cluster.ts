import type { Manifest } from './manifest.js';

/** A Deployment's spec and status, reduced to what the rollout watcher and `skiff status` read. */
export interface DeploymentState {
  readonly name: string;
  readonly generation: number;
  readonly observedGeneration: number;
  /** spec.replicas: the desired count (set by us or by the HPA). */
  readonly desiredReplicas: number;
  /** status.replicas: all pods of every revision. */
  readonly replicas: number;
  readonly updatedReplicas: number;
  readonly readyReplicas: number;
  readonly availableReplicas: number;
  /** The `deployment.kubernetes.io/revision` annotation; 0 before the controller has set it. */
  readonly revision: number;
  readonly conditions: readonly Condition[];
}

export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason?: string | undefined;
  readonly message?: string | undefined;
}

export interface ReplicaSetState {
  readonly name: string;
  readonly revision: number;
  readonly podTemplateHash: string;
  readonly replicas: number;
  readonly readyReplicas: number;
}

export interface ContainerState {
  readonly name: string;
  readonly ready: boolean;
  /** Whether the startup probe (if any) has passed. */
  readonly started: boolean;
  readonly restartCount: number;
  readonly waiting?: { readonly reason: string; readonly message?: string | undefined } | undefined;
  readonly lastTerminated?: { readonly reason: string; readonly exitCode: number } | undefined;
}

export interface PodState {
  readonly name: string;
  readonly podTemplateHash: string;
  readonly phase: string;
  readonly ready: boolean;
  readonly ip?: string | undefined;
  readonly nodeName?: string | undefined;
  /** Set while the scheduler cannot place the pod (PodScheduled=False, reason Unschedulable). */
  readonly unschedulable?: string | undefined;
  readonly containers: readonly ContainerState[];
}

export interface EventState {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
  readonly objectKind: string;
  readonly objectName: string;
  readonly count: number;
}

export interface ServiceState {
  readonly name: string;
  readonly type: string;
  readonly clusterIp?: string | undefined;
  /** LoadBalancer ingress IPs or host names; empty while pending or for other types. */
  readonly externalAddresses: readonly string[];
  readonly ports: readonly {
    readonly name: string;
    readonly port: number;
    readonly nodePort?: number | undefined;
  }[];
}

export interface PortForwardHandle {
  /** The local port actually listened on (useful when 0 was asked for). */
  readonly localPort: number;
  close(): Promise<void>;
}

/**
 * The slice of the Kubernetes API that Skiff's commands use, in one namespace. One real implementation on
 * @kubernetes/client-node and a fake for tests. Calls are made one at a time by a single command; each
 * throws SkiffError SKIFF_CLUSTER_FAILED (API unreachable, forbidden, conflict) with the server's message.
 * Reads of one named object resolve undefined when it does not exist.
 */
export interface Cluster {
  /** The namespace every call works in (from --namespace, else the kubeconfig context, else "default"). */
  readonly namespace: string;
  /** Server-side apply with Skiff's field manager (forcing conflicts), in the order given. */
  apply(objects: readonly Manifest[]): Promise<void>;
  getDeployment(name: string): Promise<DeploymentState | undefined>;
  listReplicaSets(labelSelector: string): Promise<readonly ReplicaSetState[]>;
  listPods(labelSelector: string): Promise<readonly PodState[]>;
  /** Events about the named objects (pods, the Deployment), oldest first. */
  listEvents(objectNames: readonly string[]): Promise<readonly EventState[]>;
  getService(name: string): Promise<ServiceState | undefined>;
  /** Ready endpoint addresses (ip:port) behind a Service. */
  getEndpoints(name: string): Promise<readonly string[]>;
  /** The last lines of a container's log; `previous` reads the one that crashed before the current one. */
  readLogs(pod: string, container: string, tailLines: number, previous?: boolean): Promise<string>;
  /** Streams a container's log line by line until the signal aborts or the container ends. */
  followLogs(
    pod: string,
    container: string,
    onLine: (line: string) => void,
    signal: AbortSignal,
    tailLines?: number,
  ): Promise<void>;
  /** Puts the pod template of the ReplicaSet with that revision back into the Deployment (kubectl rollout undo). */
  rollback(deployment: string, toRevision: number): Promise<void>;
  /** Deletes every object of the kinds Skiff renders that matches the selector; returns "Kind/name" of each. */
  deleteByLabel(labelSelector: string): Promise<readonly string[]>;
  portForward(pod: string, localPort: number, remotePort: number): Promise<PortForwardHandle>;
}
