import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { testImage } from './paths.js';
import { postImage } from './test-server.js';
import type { Podman } from './podman.js';

/** Polls readiness of a server in a container for up to a minute; fails with the container's logs. */
export async function waitReady(url: string, logs: () => Promise<string>): Promise<void> {
  for (let i = 0; ; i++) {
    const status = await fetch(`${url}/v2/health/ready`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    if (i > 120) assert.fail(`not ready:\n${await logs()}`);
    await sleep(500);
  }
}

/** POST /predict the hotdog photo to MobileNet V2 (the default model): 200, and hotdog on top. */
export async function predictsHotdog(url: string): Promise<void> {
  const response = await postImage(`${url}/predict`, readFileSync(testImage('hotdog.jpg')));
  assert.equal(response.status, 200);
  const body = (await response.json()) as { predictions: { label: string }[] };
  assert.equal(body.predictions[0]?.label, 'hotdog');
}

/** The process (seen from the host) runs as the image's non-root user, 65532, for every uid kind. */
export function assertRunsAs65532(pid: string): void {
  assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /^Uid:\s+65532\s+65532\s+65532\s+65532$/m);
}

/**
 * The served container `name` runs `skiff serve` as node (PID 1 of its own) under uid 65532, and a
 * `podman stop` makes it drain and exit 0, as its log says.
 */
export async function assertServesAsNonRootAndDrains(podman: Podman, name: string): Promise<void> {
  const pid = (await podman.ok(['inspect', '--format', '{{.State.Pid}}', name])).trim();
  assertRunsAs65532(pid);
  assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /^node\0\/app\/dist\/src\/cli\/main\.js\0serve/);

  await podman.ok(['stop', '-t', '20', name], 60_000);
  const exit = (await podman.ok(['inspect', '--format', '{{.State.ExitCode}}', name])).trim();
  assert.equal(exit, '0');
  const logs = await podman.run(['logs', name]);
  // The server saw SIGTERM itself (node is PID 1) and drained before exiting.
  assert.match(logs.stderr + logs.stdout, /"msg":"SIGTERM: [^"]*finishing requests in flight/);
}
