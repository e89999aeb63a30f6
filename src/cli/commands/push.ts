import path from 'node:path';
import { formatImageReference, parseImageReference } from '../../deploy/image/image-reference.js';
import { readImage } from '../../deploy/image/oci-layout.js';
import { ProgressLine, megabytes } from '../../deploy/image/progress-line.js';
import { pushImage } from '../../deploy/image/push-image.js';
import { registryClientFor } from '../../deploy/image/registry-access.js';
import type { CommandIo } from '../command-spec.js';
import { PUSH_COMMAND } from '../command-table.js';
import { readCommand } from '../read-command.js';

/** `skiff push`: prints `<repository>@<digest>` on stdout. */
export async function pushCommand(io: CommandIo): Promise<number> {
  const config = readCommand(PUSH_COMMAND, io);
  if (config === undefined) return 0;
  const target = parseImageReference(config.tag);
  const { image, dispose } = await readImage(path.resolve(io.cwd, config.from));
  try {
    const started = performance.now();
    const pushed = await pushImage(
      registryClientFor(config, io.env, target.registry),
      image,
      target,
      new ProgressLine(io.stderr, io.stderrIsTty),
    );
    io.stderr(
      `pushed ${config.tag} in ${((performance.now() - started) / 1000).toFixed(1)} s: ${pushed.blobs.uploaded} blobs uploaded (${megabytes(
        pushed.bytesUploaded,
      )} MB), ${pushed.blobs.mounted} mounted, ${pushed.blobs.present} already there\n`,
    );
    io.stdout(
      `${formatImageReference({ registry: target.registry, repository: target.repository })}@${pushed.digest}\n`,
    );
  } finally {
    await dispose();
  }
  return 0;
}
