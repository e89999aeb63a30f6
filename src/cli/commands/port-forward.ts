import { CLUSTER_OPTIONS, PORT_FORWARD_OPTIONS } from '../../config/deploy-options.js';
import { SkiffError } from '../../core/errors.js';
import { SKIFF_SERVER } from '../../deploy/k8s/app-props.js';
import { renderHelp } from '../help.js';
import type { ConnectCluster } from './kube-command.js';
import { connectCluster, loadDeployConfig, podsOf, untilInterrupted } from './kube-command.js';
import type { CommandIo } from './serve.js';

const PORT_FORWARD_VISIBLE = [...CLUSTER_OPTIONS, ...PORT_FORWARD_OPTIONS];

export const PORT_FORWARD_HELP = renderHelp(
  'skiff port-forward [options]',
  'Forward a local port on 127.0.0.1 to the HTTP port of one ready pod of an app, as\n"kubectl port-forward" does, without looking up the pod\'s name. Runs until Ctrl-C.',
  PORT_FORWARD_VISIBLE,
  'Example:\n  skiff port-forward &\n  curl -F image=@dog.jpg http://127.0.0.1:5000/predict',
);

export async function portForwardCommand(
  io: CommandIo,
  connect: ConnectCluster = connectCluster,
  interrupted: () => Promise<unknown> = untilInterrupted,
): Promise<number> {
  const loaded = loadDeployConfig(io, PORT_FORWARD_VISIBLE);
  if (loaded.help) {
    io.stdout(PORT_FORWARD_HELP);
    return 0;
  }
  const config = loaded.config;
  const cluster = await connect(config);
  const pods = await podsOf(cluster, config.app);
  const pod = pods.filter((p) => p.ready).sort((a, b) => a.name.localeCompare(b.name))[0];
  if (pod === undefined) {
    throw new SkiffError(
      'SKIFF_NO_READY_POD',
      `none of the ${pods.length} pods of "${config.app}" is ready; "skiff status" says why`,
    );
  }
  const handle = await cluster.portForward(pod.name, config.localPort, SKIFF_SERVER.httpPort);
  io.stderr(
    `forwarding http://127.0.0.1:${handle.localPort} -> ${pod.name}:${SKIFF_SERVER.httpPort} (Ctrl-C to stop)\n` +
      `try: curl -F image=@dog.jpg http://127.0.0.1:${handle.localPort}${SKIFF_SERVER.predictPath}\n`,
  );
  await interrupted();
  await handle.close();
  return 0;
}
