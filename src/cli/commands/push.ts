import path from 'node:path';
import { PUSH_OPTIONS } from '../../config/push-options.js';
import { loadConfig, readProjectFile } from '../../config/load-config.js';
import { formatImageReference, parseImageReference } from '../../deploy/image/image-reference.js';
import { readImage } from '../../deploy/image/oci-layout.js';
import { ProgressLine, megabytes } from '../../deploy/image/progress-line.js';
import { pushImage } from '../../deploy/image/push-image.js';
import { registryClientFor } from '../../deploy/image/registry-access.js';
import { renderHelp } from '../help.js';
import { parseFlags } from '../parse-flags.js';
import type { CommandIo } from './serve.js';
import { findProjectFile } from './serve.js';

export const PUSH_HELP = renderHelp(
  'skiff push --tag <ref> [options]',
  'Push an image written by "skiff build --output" (an OCI layout directory or tar) to a registry over the\nOCI distribution API: blobs the registry has are skipped, base layers are mounted from the base repository\nwhen it is on the same registry, failures are retried. Options also come from the "push" section of skiff.yaml.',
  PUSH_OPTIONS,
  'Examples:\n  skiff build --output dogs.tar && skiff push --from dogs.tar --tag registry.example.com/team/dogs:1.0\n  skiff push --tag 127.0.0.1:5000/dogs:dev            # plain HTTP for 127.0.0.1 and localhost',
);

/** `skiff push`: prints `<repository>@<digest>` on stdout. */
export async function pushCommand(io: CommandIo): Promise<number> {
  const flags = parseFlags(PUSH_OPTIONS, io.argv);
  if (flags.help) {
    io.stdout(PUSH_HELP);
    return 0;
  }
  const projectFile = findProjectFile(flags.configFile, io.cwd);
  const config = loadConfig(PUSH_OPTIONS, {
    flags: flags.values,
    env: io.env,
    file:
      projectFile === undefined
        ? undefined
        : { path: projectFile, section: readProjectFile(projectFile, 'push') },
  });
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
