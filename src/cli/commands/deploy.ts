import { appPropsFromConfig } from '../../deploy/k8s/app-props-from-config.js';
import { buildManifests } from '../../deploy/k8s/build-manifests.js';
import { instanceSelector } from '../../deploy/k8s/labels.js';
import { renderManifests } from '../../deploy/k8s/render-manifests.js';
import { DEFAULT_LIMITS } from '../../deploy/k8s/assess-rollout.js';
import { formatFailure } from '../../deploy/k8s/format-failure.js';
import { watchRollout } from '../../deploy/k8s/rollout-watcher.js';
import type { ConnectCluster } from './kube-command.js';
import { connectCluster } from './kube-command.js';
import type { CommandIo } from '../command-spec.js';
import { DEPLOY_COMMAND } from '../command-table.js';
import { readCommand } from '../read-command.js';

/** `skiff deploy`: 0 when the rollout completed (or --dry-run printed), 1 when it failed. */
export async function deployCommand(
  io: CommandIo,
  connect: ConnectCluster = connectCluster,
): Promise<number> {
  const config = readCommand(DEPLOY_COMMAND, io);
  if (config === undefined) return 0;
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
