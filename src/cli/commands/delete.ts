import { CLUSTER_OPTIONS } from '../../config/deploy-options.js';
import { instanceSelector } from '../../deploy/k8s/labels.js';
import { renderHelp } from '../help.js';
import type { ConnectCluster } from './kube-command.js';
import { connectCluster, loadDeployConfig } from './kube-command.js';
import type { CommandIo } from './serve.js';

export const DELETE_HELP = renderHelp(
  'skiff delete [options]',
  'Delete everything Skiff created for an app (found by its app.kubernetes.io/instance and managed-by labels):\nthe Deployment and its pods, Service, autoscaler, disruption budget, Ingress, ConfigMap, and a KServe or\nSeldon resource if one was deployed.',
  CLUSTER_OPTIONS,
  'Example:\n  skiff delete --app dogs',
);

export async function deleteCommand(
  io: CommandIo,
  connect: ConnectCluster = connectCluster,
): Promise<number> {
  const loaded = loadDeployConfig(io, CLUSTER_OPTIONS);
  if (loaded.help) {
    io.stdout(DELETE_HELP);
    return 0;
  }
  const config = loaded.config;
  const cluster = await connect(config);
  const deleted = await cluster.deleteByLabel(instanceSelector(config.app));
  if (deleted.length === 0) {
    io.stderr(`nothing of "${config.app}" found in namespace ${cluster.namespace}\n`);
    return 0;
  }
  for (const name of deleted) io.stdout(`deleted ${name}\n`);
  return 0;
}
