import { instanceSelector } from '../../deploy/k8s/labels.js';
import type { ConnectCluster } from './kube-command.js';
import { connectCluster } from './kube-command.js';
import type { CommandIo } from '../command-spec.js';
import { DELETE_COMMAND } from '../command-table.js';
import { readCommand } from '../read-command.js';

export async function deleteCommand(
  io: CommandIo,
  connect: ConnectCluster = connectCluster,
): Promise<number> {
  const config = readCommand(DELETE_COMMAND, io);
  if (config === undefined) return 0;
  const cluster = await connect(config);
  const deleted = await cluster.deleteByLabel(instanceSelector(config.app));
  if (deleted.length === 0) {
    io.stderr(`nothing of "${config.app}" found in namespace ${cluster.namespace}\n`);
    return 0;
  }
  for (const name of deleted) io.stdout(`deleted ${name}\n`);
  return 0;
}
