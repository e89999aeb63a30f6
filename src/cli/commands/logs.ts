import { CLUSTER_OPTIONS, LOGS_OPTIONS } from '../../config/deploy-options.js';
import { SKIFF_SERVER } from '../../deploy/k8s/app-props.js';
import { renderHelp } from '../help.js';
import type { ConnectCluster } from './kube-command.js';
import { connectCluster, loadDeployConfig, podsOf, untilInterrupted } from './kube-command.js';
import type { CommandIo } from './serve.js';

const LOGS_VISIBLE = [...CLUSTER_OPTIONS, ...LOGS_OPTIONS];

export const LOGS_HELP = renderHelp(
  'skiff logs [options]',
  "Print the server logs of every pod of an app, each line prefixed with its pod's name.",
  LOGS_VISIBLE,
  'Examples:\n  skiff logs --tail 20\n  skiff logs -f            # follow until Ctrl-C',
);

export async function logsCommand(
  io: CommandIo,
  connect: ConnectCluster = connectCluster,
  interrupted: () => Promise<unknown> = untilInterrupted,
): Promise<number> {
  const loaded = loadDeployConfig(io, LOGS_VISIBLE);
  if (loaded.help) {
    io.stdout(LOGS_HELP);
    return 0;
  }
  const config = loaded.config;
  const cluster = await connect(config);
  const pods = await podsOf(cluster, config.app);
  const width = Math.max(...pods.map((p) => p.name.length));
  const print = (pod: string) => (line: string) => io.stdout(`${pod.padEnd(width)} | ${line}\n`);
  if (!config.follow) {
    for (const pod of pods) {
      const text = await cluster.readLogs(pod.name, SKIFF_SERVER.containerName, config.tail);
      for (const line of text.trimEnd().split('\n')) if (line !== '') print(pod.name)(line);
    }
    return 0;
  }
  const stop = new AbortController();
  const streams = pods.map((pod) =>
    cluster.followLogs(pod.name, SKIFF_SERVER.containerName, print(pod.name), stop.signal, config.tail),
  );
  await Promise.race([Promise.all(streams), interrupted()]);
  stop.abort();
  return 0;
}
