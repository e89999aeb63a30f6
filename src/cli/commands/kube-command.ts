import type { DeployConfig } from '../../config/deploy-options.js';
import type { Cluster } from '../../deploy/k8s/cluster.js';
import { SkiffError } from '../../core/errors.js';
import { instanceSelector } from '../../deploy/k8s/labels.js';

/** Opens the cluster a command works on; commands take it as a parameter so tests can pass a fake. */
export type ConnectCluster = (config: DeployConfig) => Promise<Cluster>;

/** The real connection; client-node is imported only here, so `--help` and `--dry-run` never load it. */
export const connectCluster: ConnectCluster = async (config) => {
  const { ClientNodeCluster } = await import('../../deploy/k8s/client-node-cluster.js');
  return ClientNodeCluster.connect({
    kubeconfig: config.kubeconfig,
    context: config.context,
    namespace: config.namespace,
  });
};

/** Resolves on the first SIGINT or SIGTERM: how long-running commands (logs -f, port-forward) end. */
export function untilInterrupted(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve(signal);
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

/** The app's pods; SKIFF_NOT_DEPLOYED when there are none. */
export async function podsOf(
  cluster: Cluster,
  app: string,
): Promise<Awaited<ReturnType<Cluster['listPods']>>> {
  const pods = await cluster.listPods(instanceSelector(app));
  if (pods.length === 0) {
    throw new SkiffError('SKIFF_NOT_DEPLOYED', `no pods of "${app}" in namespace ${cluster.namespace}`);
  }
  return pods;
}
