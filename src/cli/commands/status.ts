import { SkiffError } from '../../core/errors.js';
import { SKIFF_SERVER } from '../../deploy/k8s/app-props.js';
import type { Cluster, PodState, ServiceState } from '../../deploy/k8s/cluster.js';
import { instanceSelector } from '../../deploy/k8s/labels.js';
import { assessRollout } from '../../deploy/k8s/assess-rollout.js';
import { formatProgress } from '../../deploy/k8s/rollout-progress.js';
import type { ConnectCluster } from './kube-command.js';
import { connectCluster } from './kube-command.js';
import type { CommandIo } from '../command-spec.js';
import { STATUS_COMMAND } from '../command-table.js';
import { readCommand } from '../read-command.js';

/** `skiff status`: 0 when the rollout is complete, 1 while it progresses or has failed. */
export async function statusCommand(
  io: CommandIo,
  connect: ConnectCluster = connectCluster,
): Promise<number> {
  const config = readCommand(STATUS_COMMAND, io);
  if (config === undefined) return 0;
  const cluster = await connect(config);
  const text = await describeApp(cluster, config.app);
  io.stdout(text.report);
  return text.complete ? 0 : 1;
}

/** The status report of one app; throws SKIFF_NOT_DEPLOYED when it has no Deployment. */
export async function describeApp(
  cluster: Cluster,
  app: string,
): Promise<{ report: string; complete: boolean }> {
  const deployment = await cluster.getDeployment(app);
  if (deployment === undefined) {
    throw new SkiffError(
      'SKIFF_NOT_DEPLOYED',
      `no deployment "${app}" in namespace ${cluster.namespace} (skiff deploy --app ${app})`,
    );
  }
  const selector = instanceSelector(app);
  const [replicaSets, pods, service, endpoints] = await Promise.all([
    cluster.listReplicaSets(selector),
    cluster.listPods(selector),
    cluster.getService(app),
    cluster.getEndpoints(app),
  ]);
  const current = replicaSets.find((rs) => rs.revision === deployment.revision);
  const newPods = pods.filter((p) => p.podTemplateHash === current?.podTemplateHash);
  const events = await cluster.listEvents([app, ...newPods.map((p) => p.name)]);
  const verdict = assessRollout({ deployment, newPods, events, elapsedMs: 0 });
  const state =
    verdict.state === 'complete'
      ? 'rollout complete'
      : verdict.state === 'failed'
        ? `failing: ${verdict.message}`
        : 'rollout in progress';
  const lines = [
    `${formatProgress(app, verdict.progress)}: ${state}`,
    `namespace ${cluster.namespace}`,
    'pods:',
  ];
  lines.push(...(pods.length === 0 ? ['  (none)'] : pods.map(podLine)));
  lines.push(
    ...serviceLines(service),
    `endpoints: ${endpoints.length === 0 ? '(none ready)' : endpoints.join(', ')}`,
  );
  return { report: `${lines.join('\n')}\n`, complete: verdict.state === 'complete' };
}

function podLine(pod: PodState): string {
  const container = pod.containers[0];
  const status = container?.waiting?.reason ?? pod.unschedulable ?? pod.phase;
  const restarts = pod.containers.reduce((sum, c) => sum + c.restartCount, 0);
  return `  ${pod.name}  ${pod.ready ? 'ready' : 'not ready'}  ${status}  restarts ${restarts}  ${pod.nodeName ?? '-'}  ${pod.ip ?? '-'}`;
}

function serviceLines(service: ServiceState | undefined): string[] {
  if (service === undefined) return ['service: (none)'];
  const http = service.ports.find((p) => p.name === 'http');
  const port = http?.port ?? SKIFF_SERVER.httpPort;
  const lines = [
    `service ${service.name} (${service.type}): cluster IP ${service.clusterIp ?? '-'}, ports ${service.ports.map((p) => `${p.name} ${p.port}${p.nodePort === undefined ? '' : `:${p.nodePort}`}`).join(', ')}`,
  ];
  if (service.type === 'LoadBalancer') {
    lines.push(
      service.externalAddresses.length === 0
        ? 'external address: pending (Minikube: run "minikube tunnel" or "minikube service <app>")'
        : `external address: ${service.externalAddresses.map((a) => `http://${a}:${port}`).join(', ')}  (curl -F image=@dog.jpg http://${service.externalAddresses[0] ?? ''}:${port}${SKIFF_SERVER.predictPath})`,
    );
  } else if (service.type === 'NodePort' && http?.nodePort !== undefined) {
    lines.push(`node port: ${http.nodePort} on every node`);
  } else {
    lines.push('external address: none (ClusterIP); use "skiff port-forward" or --service-type LoadBalancer');
  }
  return lines;
}
