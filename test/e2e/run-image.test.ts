// `skiff run-image` with podman: an image from `skiff build` (no model baked in) served with a local model
// mounted, detached and in the foreground, where SIGTERM to skiff reaches the server and it exits 0.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, requireCommands, startLocalRegistry } from '../helpers/local-registry.js';
import type { LocalRegistry } from '../helpers/local-registry.js';
import { pushNodeBase } from '../helpers/node-base-image.js';
import { IMAGENET_LABELS, cliPath, defaultModel } from '../helpers/paths.js';
import { createPodman } from '../helpers/podman.js';
import type { Podman } from '../helpers/podman.js';
import { runCli } from '../helpers/run-cli.js';
import { trackChild } from '../helpers/child-processes.js';
import { predictsHotdog, waitReady } from '../helpers/container-checks.js';

const MODEL = defaultModel();

describe('skiff run-image with podman', { timeout: 300_000 }, () => {
  let work: string;
  let registry: LocalRegistry | undefined;
  let podman: Podman | undefined;
  let tag: string;
  let env: Record<string, string>;

  /** `skiff run-image` of the pushed image on `port`, the default model mounted, as container `name`. */
  const runImage = (port: number, name: string): string[] => [
    'run-image',
    '--engine',
    'podman',
    '--image',
    tag,
    '--port',
    String(port),
    '--model',
    MODEL,
    '--labels',
    IMAGENET_LABELS(),
    '--container-name',
    name,
  ];

  before(async () => {
    requireCommands('docker-registry', 'podman', 'runc');
    work = mkdtempSync(path.join(os.tmpdir(), 'skiff-run-image-e2e-'));
    registry = await startLocalRegistry();
    const base = await pushNodeBase(registry.host, work);
    tag = `${registry.host}/skiff-run/server:1`;
    const built = await runCli(
      [
        'build',
        '--base',
        base,
        '--tag',
        tag,
        '--output',
        path.join(work, 'image.tar'),
        '--cache-dir',
        path.join(work, 'cache'),
      ],
      { cwd: work, timeoutMs: 120_000 },
    );
    assert.equal(built.code, 0, built.stderr);
    podman = createPodman();
    await podman.ok(['load', '-i', path.join(work, 'image.tar')], 120_000);
    env = Object.fromEntries(
      Object.entries(podman.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
  });

  after(async () => {
    await podman?.dispose();
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('--detach prints the URL; the mounted model answers; podman stop exits 0', async () => {
    assert.ok(podman);
    const port = await freePort();
    const name = 'skiff-run-detached';
    const result = await runCli([...runImage(port, name), '--detach'], { cwd: work, env, timeoutMs: 60_000 });
    assert.equal(result.code, 0, result.stderr);
    const url = `http://127.0.0.1:${port}`;
    assert.equal(result.stdout, `${url}\n`);
    assert.match(result.stderr, new RegExp(`"podman stop ${name}"`));
    await waitReady(url, async () => (await podman?.run(['logs', name]))?.stderr ?? '');
    await predictsHotdog(url);
    await podman.ok(['stop', '-t', '20', name], 60_000);
    assert.equal((await podman.ok(['inspect', '--format', '{{.State.ExitCode}}', name])).trim(), '0');
  });

  test('in the foreground, SIGTERM to skiff drains the server and skiff exits 0; the container is removed', async () => {
    assert.ok(podman);
    const port = await freePort();
    const name = 'skiff-run-foreground';
    const child = spawn(process.execPath, [cliPath(), ...runImage(port, name)], {
      cwd: work,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const tracked = trackChild(child);
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(url, () => Promise.resolve(output));
      assert.match(output, new RegExp(`skiff: ${url} \\(POST /predict\\)`));
      await predictsHotdog(url);
      // null when it had to be killed after a minute.
      const code = await tracked.stop('SIGTERM', 60_000);
      assert.equal(code, 0, output);
      assert.match(output, /"msg":"SIGTERM: [^"]*finishing requests in flight/);
      const left = await podman.ok(['ps', '-a', '--format', '{{.Names}}']);
      assert.doesNotMatch(left, new RegExp(`^${name}$`, 'm'));
    } finally {
      // After a failure above skiff is still running; podman.dispose() removes its container.
      await tracked.stop('SIGTERM', 30_000);
    }
  });
});
