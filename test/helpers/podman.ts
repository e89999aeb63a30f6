// Test support: podman with its own storage in a temp dir and the two containers.conf settings this machine
// needs (REFERENCE.md): runc, and ulimits the sandbox can grant.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trackChild } from './child-processes.js';

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Podman {
  readonly env: NodeJS.ProcessEnv;
  run(args: readonly string[], timeoutMs?: number): Promise<CommandResult>;
  /** Runs and throws with the output unless the exit code is 0. */
  ok(args: readonly string[], timeoutMs?: number): Promise<string>;
  /** Removes every container and image in this private store, then the store. */
  dispose(): Promise<void>;
}

export function runCommand(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 120_000,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export function createPodman(): Podman {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-podman-'));
  mkdirSync(path.join(dir, 'graph'));
  mkdirSync(path.join(dir, 'run'));
  writeFileSync(
    path.join(dir, 'containers.conf'),
    '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]\n\n[engine]\nruntime = "runc"\n',
  );
  const storage = (driver: string): void =>
    writeFileSync(
      path.join(dir, 'storage.conf'),
      `[storage]\ndriver = "${driver}"\ngraphroot = "${path.join(dir, 'graph')}"\nrunroot = "${path.join(dir, 'run')}"\n`,
    );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CONTAINERS_CONF: path.join(dir, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: path.join(dir, 'storage.conf'),
  };
  // overlay is several times faster than vfs (which copies every layer in full); fall back where the kernel
  // or sandbox does not allow it.
  storage('overlay');
  if (spawnSync('podman', ['info'], { env, stdio: 'ignore', timeout: 60_000 }).status !== 0) storage('vfs');
  const run = (args: readonly string[], timeoutMs?: number): Promise<CommandResult> =>
    runCommand('podman', args, env, timeoutMs);
  return {
    env,
    run,
    ok: async (args, timeoutMs) => {
      const result = await run(args, timeoutMs);
      if (result.code !== 0)
        throw new Error(
          `podman ${args.join(' ')} exited with ${result.code}:\n${result.stderr}${result.stdout}`,
        );
      return result.stdout;
    },
    dispose: async () => {
      await run(['rm', '-af', '-t', '0']);
      await run(['rmi', '-af']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
