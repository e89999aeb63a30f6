import { SKIFF_SERVER } from '../../deploy/k8s/app-props.js';
import type { ConnectCluster } from './kube-command.js';
import { connectCluster, podsOf, untilInterrupted } from './kube-command.js';
import type { CommandIo } from '../command-spec.js';
import { LOGS_COMMAND } from '../command-table.js';
import { readCommand } from '../read-command.js';

export async function logsCommand(
  io: CommandIo,
  connect: ConnectCluster = connectCluster,
  interrupted: () => Promise<unknown> = untilInterrupted,
): Promise<number> {
  const config = readCommand(LOGS_COMMAND, io);
  if (config === undefined) return 0;
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
