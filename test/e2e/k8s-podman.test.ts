// Smoke test of the rendered Deployment with `podman kube play`: the pod spec `skiff deploy` renders (non-root,
// read-only root filesystem, dropped capabilities, emptyDirs, the SKIFF_* environment, the pre-stop hook) runs
// the image `skiff build` made and answers a prediction. A test overlay keeps what podman can run: the
// Deployment only, one replica, a hostPort on 127.0.0.1, no probes (podman kube play does not run them).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { freePort, startLocalRegistry } from '../helpers/local-registry.js';
import type { LocalRegistry } from '../helpers/local-registry.js';
import { pushNodeBase } from '../helpers/node-base-image.js';
import { IMAGENET_LABELS, defaultModel, repoRoot } from '../helpers/paths.js';
import { createPodman } from '../helpers/podman.js';
import type { Podman } from '../helpers/podman.js';
import { runCli } from '../helpers/run-cli.js';
import { assertRunsAs65532, predictsHotdog, waitReady } from '../helpers/container-checks.js';

const MODEL = defaultModel();
const TIMEOUT_MS = 180_000;
const missing = ['podman', 'catatonit', 'docker-registry', 'runc', 'ldd'].filter(
  (command) => spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0,
);
const skip =
  missing.length === 0
    ? false
    : `needs ${missing.join(', ')} (apt-get install podman catatonit docker-registry runc; catatonit is the pause process of kube play pods)`;

/** What podman can run of the Deployment: one replica, the http port on 127.0.0.1:<port>, no probes. */
function podmanOverlay(deployment: IDeployment, hostPort: number): IDeployment {
  const spec = deployment.spec;
  const pod = spec?.template.spec;
  assert.ok(spec && pod);
  return {
    ...deployment,
    spec: {
      ...spec,
      replicas: 1,
      template: {
        ...spec.template,
        spec: {
          ...pod,
          containers: pod.containers.map((container) => {
            const withoutProbes = { ...container };
            delete withoutProbes.startupProbe;
            delete withoutProbes.readinessProbe;
            delete withoutProbes.livenessProbe;
            return {
              ...withoutProbes,
              ports: (container.ports ?? []).map((p) =>
                p.name === 'http' ? { ...p, hostPort, hostIP: '127.0.0.1' } : p,
              ),
            };
          }),
        },
      },
    },
  };
}

describe('podman kube play runs the rendered Deployment', { skip, timeout: 600_000 }, () => {
  let work: string;
  let registry: LocalRegistry | undefined;
  let podman: Podman | undefined;
  let tag: string;

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'skiff-kube-play-'));
    registry = await startLocalRegistry();
    const base = await pushNodeBase(registry.host, work);
    const appDir = path.join(work, 'app');
    mkdirSync(appDir);
    cpSync(path.join(repoRoot(), 'dist', 'src'), path.join(appDir, 'dist', 'src'), { recursive: true });
    cpSync(path.join(repoRoot(), 'models'), path.join(appDir, 'models'), { recursive: true });
    for (const file of ['package.json', 'package-lock.json'])
      copyFileSync(path.join(repoRoot(), file), path.join(appDir, file));
    symlinkSync(path.join(repoRoot(), 'node_modules'), path.join(appDir, 'node_modules'));
    tag = `${registry.host}/skiff-kube-play/mobilenet:1`;
    const built = await runCli(
      ['build', '--base', base, '--tag', tag, '--model', MODEL, '--labels', IMAGENET_LABELS(), '--push'],
      { cwd: work, timeoutMs: TIMEOUT_MS, env: { XDG_CACHE_HOME: path.join(work, 'cache') } },
    );
    assert.equal(built.code, 0, built.stderr);
    podman = createPodman();
    await podman.ok(['pull', '--tls-verify=false', tag], TIMEOUT_MS);
  });

  after(async () => {
    await podman?.dispose();
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('the pod becomes ready, predicts hotdog as uid 65532, and stops cleanly', async () => {
    assert.ok(podman);
    const rendered = await runCli([
      'deploy',
      '--dry-run',
      '--app',
      'kube-play',
      '--image',
      tag,
      '--model-bytes',
      String(readFileSync(MODEL).length),
      '--replicas',
      '1',
      '--max-replicas',
      '1',
    ]);
    assert.equal(rendered.code, 0, rendered.stderr);
    const deployment = parseAllDocuments(rendered.stdout)
      .map((d) => d.toJS() as { kind: string })
      .find((o) => o.kind === 'Deployment') as IDeployment | undefined;
    assert.ok(deployment);
    const port = await freePort();
    const file = path.join(work, 'kube-play.yaml');
    writeFileSync(file, stringify(podmanOverlay(deployment, port)));

    await podman.ok(['kube', 'play', file], TIMEOUT_MS);
    try {
      const url = `http://127.0.0.1:${port}`;
      const engine = podman;
      await waitReady(url, async () => {
        const logs = await engine.run(['logs', '--names', '--latest']);
        return `${logs.stderr}${logs.stdout}`;
      });
      await predictsHotdog(url);

      const container = (await podman.ok(['ps', '--format', '{{.Names}}']))
        .split('\n')
        .find((n) => n.includes('skiff'));
      assert.ok(container, 'no skiff container');
      const pid = (await podman.ok(['inspect', '--format', '{{.State.Pid}}', container])).trim();
      assertRunsAs65532(pid);
      const readOnly = (
        await podman.ok(['inspect', '--format', '{{.HostConfig.ReadonlyRootfs}}', container])
      ).trim();
      assert.equal(readOnly, 'true');
    } finally {
      await podman.run(['kube', 'down', file], 60_000);
    }
  });
});
