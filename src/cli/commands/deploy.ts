import { CLUSTER_OPTIONS, DEPLOY_RUN_OPTIONS, MANIFEST_OPTIONS } from '../../config/deploy-options.js';
import { appPropsFromConfig } from '../../deploy/k8s/app-props-from-config.js';
import { buildManifests } from '../../deploy/k8s/build-manifests.js';
import { instanceSelector } from '../../deploy/k8s/labels.js';
import { renderManifests } from '../../deploy/k8s/render-manifests.js';
import { DEFAULT_LIMITS } from '../../deploy/k8s/assess-rollout.js';
import { formatFailure } from '../../deploy/k8s/format-failure.js';
import { watchRollout } from '../../deploy/k8s/rollout-watcher.js';
import { renderHelp } from '../help.js';
import type { ConnectCluster } from './kube-command.js';
import { connectCluster, loadDeployConfig } from './kube-command.js';
import type { CommandIo } from './serve.js';

const DEPLOY_VISIBLE = [...CLUSTER_OPTIONS, ...MANIFEST_OPTIONS, ...DEPLOY_RUN_OPTIONS];

export const DEPLOY_HELP = renderHelp(
  'skiff deploy [options]',
  'Deploy the Skiff image to Kubernetes: a Deployment (rolling updates, probes on the health routes, sized\nresources, locked-down pods), a Service, a PodDisruptionBudget, an autoscaler and, if asked, an Ingress and\na ConfigMap for model.json. Applied with server-side apply; the rollout is watched and, if it fails, rolled\nback to the previous revision. Every option can be set in the "deploy" section of skiff.yaml.',
  DEPLOY_VISIBLE,
  'Examples:\n  skiff deploy --dry-run -o yaml                # print the manifests; no cluster needed\n  skiff deploy --image registry.example/skiff:1.2 --service-type LoadBalancer\n  skiff deploy --target kserve --dry-run        # a KServe InferenceService instead',
);

/** `skiff deploy`: 0 when the rollout completed (or --dry-run printed), 1 when it failed. */
export async function deployCommand(
  io: CommandIo,
  connect: ConnectCluster = connectCluster,
): Promise<number> {
  const loaded = loadDeployConfig(io, DEPLOY_VISIBLE);
  if (loaded.help) {
    io.stdout(DEPLOY_HELP);
    return 0;
  }
  const config = loaded.config;
  const props = appPropsFromConfig(config, io.cwd);
  const objects = buildManifests(props, config.target);
  if (config.dryRun) {
    io.stdout(renderManifests(objects, config.outputFormat));
    return 0;
  }

  const cluster = await connect(config);
  const before = await cluster.getDeployment(config.app);
  const summary = objects.map((o) => `${o.kind}/${o.metadata?.name ?? ''}`).join(', ');
  io.stderr(`applying to namespace ${cluster.namespace}: ${summary}\n`);
  await cluster.apply(objects);
  if (config.target !== 'kubernetes') {
    const kind = config.target === 'kserve' ? 'inferenceservice' : 'seldondeployment';
    io.stderr(
      `applied; the ${config.target} controller rolls it out: kubectl get ${kind} ${config.app} -n ${cluster.namespace}\n`,
    );
    return 0;
  }

  const live = io.stderrIsTty;
  const result = await watchRollout({
    cluster,
    name: config.app,
    selector: instanceSelector(config.app),
    previousRevision: before?.revision,
    rollback: !config.noRollback,
    // The Deployment's own deadline decides; this only guards against a controller that never reports.
    limits: { ...DEFAULT_LIMITS, timeoutMs: (config.progressDeadlineSeconds + 60) * 1000 },
    onProgress: (line) => io.stderr(live ? `\r\x1b[2K${line}` : `${line}\n`),
  });
  if (live) io.stderr('\n');
  if (result.verdict.state === 'complete') {
    io.stderr(
      `deployed ${config.app} (revision ${result.verdict.progress.revision}); "skiff status" shows the address, "skiff port-forward" tries it locally\n`,
    );
    return 0;
  }
  const report = formatFailure(config.app, result);
  const [first, ...rest] = report.split('\n');
  io.stderr(`skiff: error: ${first ?? ''} [SKIFF_ROLLOUT_FAILED]\n${rest.join('\n')}`);
  return 1;
}
