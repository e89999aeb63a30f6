import { KubeConfig } from '@kubernetes/client-node';
import { SkiffError } from '../../core/errors.js';
import { apiErrorMessage } from './cluster-error.js';

export interface ClusterConnection {
  /** A kubeconfig file; otherwise client-node's default ($KUBECONFIG, ~/.kube/config, or in-cluster). */
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  readonly namespace?: string | undefined;
}

/** Loads the kubeconfig as kubectl would and picks the context; throws SKIFF_KUBECONFIG_INVALID if it cannot. */
export function loadKubeConfig(connection: ClusterConnection): { config: KubeConfig; namespace: string } {
  const config = new KubeConfig();
  try {
    if (connection.kubeconfig === undefined) config.loadFromDefault();
    else config.loadFromFile(connection.kubeconfig);
  } catch (error) {
    throw new SkiffError(
      'SKIFF_KUBECONFIG_INVALID',
      `cannot load the kubeconfig${connection.kubeconfig === undefined ? '' : ` ${connection.kubeconfig}`}: ${apiErrorMessage(error)}`,
      { cause: error },
    );
  }
  if (connection.context !== undefined) {
    if (config.getContextObject(connection.context) === null) {
      const known = config.getContexts().map((c) => c.name);
      throw new SkiffError(
        'SKIFF_KUBECONFIG_INVALID',
        `no context "${connection.context}" in the kubeconfig (contexts: ${known.join(', ') || 'none'})`,
      );
    }
    config.setCurrentContext(connection.context);
  }
  if (config.getCurrentCluster() === null) {
    throw new SkiffError(
      'SKIFF_KUBECONFIG_INVALID',
      'no Kubernetes cluster configured: set KUBECONFIG, pass --kubeconfig, or create ~/.kube/config (kubectl config view)',
    );
  }
  const fromContext = config.getContextObject(config.getCurrentContext())?.namespace;
  return { config, namespace: connection.namespace ?? fromContext ?? 'default' };
}
