import { SkiffError } from '../../core/errors.js';
import { SKIFF_SERVER } from '../../deploy/k8s/app-props.js';
import type { ConnectCluster } from './kube-command.js';
import { connectCluster, podsOf, untilInterrupted } from './kube-command.js';
import type { CommandIo } from '../command-spec.js';
import { PORT_FORWARD_COMMAND } from '../command-table.js';
import { readCommand } from '../read-command.js';

export async function portForwardCommand(
  io: CommandIo,
  connect: ConnectCluster = connectCluster,
  interrupted: () => Promise<unknown> = untilInterrupted,
): Promise<number> {
  const config = readCommand(PORT_FORWARD_COMMAND, io);
  if (config === undefined) return 0;
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
