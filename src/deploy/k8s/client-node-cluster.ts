import net from 'node:net';
import { Writable } from 'node:stream';
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  Log,
  PatchStrategy,
  PortForward,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { SkiffError } from '../../core/errors.js';
import type { Manifest } from './manifest.js';
import type {
  Cluster,
  DeploymentState,
  EventState,
  PodState,
  PortForwardHandle,
  ReplicaSetState,
  ServiceState,
} from './cluster.js';
import { revisionOf, toDeploymentState, toPodState, toReplicaSetState } from './client-node-state.js';
import { call, clusterError, orUndefined } from './cluster-error.js';
import type { ClusterConnection } from './load-kube-config.js';
import { loadKubeConfig } from './load-kube-config.js';

export const FIELD_MANAGER = 'skiff';

/** The kinds `skiff delete` looks for, in deletion order (the workload first, configuration last). */
const DELETABLE_KINDS: readonly { apiVersion: string; kind: string }[] = [
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService' },
  { apiVersion: 'machinelearning.seldon.io/v1', kind: 'SeldonDeployment' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
];

/** The real cluster, through @kubernetes/client-node. */
export class ClientNodeCluster implements Cluster {
  readonly namespace: string;
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly objects: KubernetesObjectApi;

  constructor(
    private readonly config: KubeConfig,
    namespace: string,
  ) {
    this.namespace = namespace;
    this.apps = config.makeApiClient(AppsV1Api);
    this.core = config.makeApiClient(CoreV1Api);
    this.objects = KubernetesObjectApi.makeApiClient(config);
  }

  static connect(connection: ClusterConnection): ClientNodeCluster {
    const { config, namespace } = loadKubeConfig(connection);
    return new ClientNodeCluster(config, namespace);
  }

  async apply(objects: readonly Manifest[]): Promise<void> {
    for (const object of objects) {
      // Sent as plain JSON; kubernetes-models and client-node only disagree on how timestamps are typed.
      const namespaced = JSON.parse(
        JSON.stringify({ ...object, metadata: { ...object.metadata, namespace: this.namespace } }),
      ) as KubernetesObject;
      await call(`apply ${object.kind}/${object.metadata?.name ?? ''}`, () =>
        this.objects.patch(
          namespaced,
          undefined,
          undefined,
          FIELD_MANAGER,
          true,
          PatchStrategy.ServerSideApply,
        ),
      );
    }
  }

  async getDeployment(name: string): Promise<DeploymentState | undefined> {
    const deployment = await orUndefined(`read deployment ${name}`, () =>
      this.apps.readNamespacedDeployment({ name, namespace: this.namespace }),
    );
    return deployment === undefined ? undefined : toDeploymentState(deployment);
  }

  async listReplicaSets(labelSelector: string): Promise<readonly ReplicaSetState[]> {
    const list = await call('list replica sets', () =>
      this.apps.listNamespacedReplicaSet({ namespace: this.namespace, labelSelector }),
    );
    return list.items.map(toReplicaSetState);
  }

  async listPods(labelSelector: string): Promise<readonly PodState[]> {
    const list = await call('list pods', () =>
      this.core.listNamespacedPod({ namespace: this.namespace, labelSelector }),
    );
    return list.items.map(toPodState);
  }

  async listEvents(objectNames: readonly string[]): Promise<readonly EventState[]> {
    const list = await call('list events', () =>
      this.core.listNamespacedEvent({ namespace: this.namespace }),
    );
    const wanted = new Set(objectNames);
    return list.items
      .filter((e) => wanted.has(e.involvedObject.name ?? ''))
      .sort((a, b) => time(a.lastTimestamp ?? a.eventTime) - time(b.lastTimestamp ?? b.eventTime))
      .map((e) => ({
        type: e.type === 'Warning' ? 'Warning' : 'Normal',
        reason: e.reason ?? '',
        message: (e.message ?? '').trim(),
        objectKind: e.involvedObject.kind ?? '',
        objectName: e.involvedObject.name ?? '',
        count: e.count ?? 1,
      }));
  }

  async getService(name: string): Promise<ServiceState | undefined> {
    const service = await orUndefined(`read service ${name}`, () =>
      this.core.readNamespacedService({ name, namespace: this.namespace }),
    );
    if (service === undefined) return undefined;
    return {
      name,
      type: service.spec?.type ?? 'ClusterIP',
      clusterIp: service.spec?.clusterIP,
      externalAddresses: (service.status?.loadBalancer?.ingress ?? []).flatMap((i) =>
        i.ip !== undefined ? [i.ip] : i.hostname !== undefined ? [i.hostname] : [],
      ),
      ports: (service.spec?.ports ?? []).map((p) => ({
        name: p.name ?? '',
        port: p.port,
        nodePort: p.nodePort,
      })),
    };
  }

  async getEndpoints(name: string): Promise<readonly string[]> {
    const endpoints = await orUndefined(`read the endpoints of ${name}`, () =>
      this.core.readNamespacedEndpoints({ name, namespace: this.namespace }),
    );
    return (endpoints?.subsets ?? []).flatMap((subset) =>
      (subset.addresses ?? []).flatMap((address) =>
        (subset.ports ?? []).filter((p) => p.name === 'http').map((p) => `${address.ip}:${p.port}`),
      ),
    );
  }

  async readLogs(pod: string, container: string, tailLines: number, previous = false): Promise<string> {
    return call(`read the log of ${pod}`, () =>
      this.core.readNamespacedPodLog({
        name: pod,
        namespace: this.namespace,
        container,
        tailLines,
        previous,
      }),
    );
  }

  async followLogs(
    pod: string,
    container: string,
    onLine: (line: string) => void,
    signal: AbortSignal,
    tailLines?: number,
  ): Promise<void> {
    let pending = '';
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) onLine(line);
        done();
      },
    });
    const ended = new Promise<void>((resolve) => {
      sink.on('finish', resolve);
      sink.on('close', resolve);
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    const request = await call(`follow the log of ${pod}`, () =>
      new Log(this.config).log(this.namespace, pod, container, sink, {
        follow: true,
        ...(tailLines === undefined ? {} : { tailLines }),
      }),
    );
    signal.addEventListener('abort', () => request.abort(), { once: true });
    await ended;
    if (pending !== '') onLine(pending);
  }

  async rollback(deployment: string, toRevision: number): Promise<void> {
    const current = await call('read the deployment', () =>
      this.apps.readNamespacedDeployment({ name: deployment, namespace: this.namespace }),
    );
    const selector = Object.entries(current.spec?.selector.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const replicaSets = await call('list replica sets', () =>
      this.apps.listNamespacedReplicaSet({ namespace: this.namespace, labelSelector: selector }),
    );
    const target = replicaSets.items.find((rs) => revisionOf(rs.metadata?.annotations) === toRevision);
    const template = target?.spec?.template;
    if (template === undefined) {
      throw new SkiffError(
        'SKIFF_CLUSTER_FAILED',
        `revision ${toRevision} of ${deployment} no longer exists`,
      );
    }
    // As kubectl rollout undo does: the old template minus the label the controller adds to each ReplicaSet.
    const value = JSON.parse(JSON.stringify(template)) as { metadata?: { labels?: Record<string, string> } };
    delete value.metadata?.labels?.['pod-template-hash'];
    const body = [{ op: 'replace', path: '/spec/template', value }];
    await call(`roll back ${deployment}`, () =>
      this.apps.patchNamespacedDeployment(
        { name: deployment, namespace: this.namespace, body },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      ),
    );
  }

  async deleteByLabel(labelSelector: string): Promise<readonly string[]> {
    const deleted: string[] = [];
    for (const { apiVersion, kind } of DELETABLE_KINDS) {
      let items: KubernetesObject[];
      try {
        items = (
          await this.objects.list(
            apiVersion,
            kind,
            this.namespace,
            undefined,
            undefined,
            undefined,
            undefined,
            labelSelector,
          )
        ).items;
      } catch (error) {
        // A custom resource whose CRD is not installed: there is nothing of that kind to delete.
        if (error instanceof ApiException && error.code === 404) continue;
        if (error instanceof Error && /not found|resource type/i.test(error.message)) continue;
        throw clusterError(`list ${kind}`, error);
      }
      for (const item of items) {
        const name = item.metadata?.name ?? '';
        await call(`delete ${kind}/${name}`, () =>
          this.objects.delete(
            { ...item, apiVersion, kind },
            undefined,
            undefined,
            undefined,
            undefined,
            'Foreground',
          ),
        );
        deleted.push(`${kind}/${name}`);
      }
    }
    return deleted;
  }

  async portForward(pod: string, localPort: number, remotePort: number): Promise<PortForwardHandle> {
    const forward = new PortForward(this.config);
    const server = net.createServer((socket) => {
      forward.portForward(this.namespace, pod, [remotePort], socket, null, socket).catch((error: unknown) => {
        socket.destroy(error instanceof Error ? error : undefined);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(localPort, '127.0.0.1', resolve);
    });
    const address = server.address();
    return {
      localPort: typeof address === 'object' && address !== null ? address.port : localPort,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }
}

function time(value: Date | string | undefined): number {
  return value === undefined ? 0 : new Date(value).getTime();
}
