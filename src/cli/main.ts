#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { isSkiffError } from '../core/errors.js';
import { exitProcess } from '../host/exit-process.js';
import type { CommandIo } from './commands/serve.js';

const USAGE = `Usage: skiff <command> [options]

Commands:
  serve      serve a model over HTTP and gRPC (default: MobileNet V2 int8, which ships with Skiff)
  models     list a model repository: versions, inputs, outputs and what each model expects
  bench      load a running server: req/s and latency percentiles per concurrency or rate, vs the engine alone
  build      build the server image (OCI) without a Docker daemon; --push sends it to a registry
  push       push an image written by "skiff build --output" to a registry
  run-image  run a Skiff image with podman or docker: port on 127.0.0.1, a local model mounted
  deploy     deploy to Kubernetes and watch the rollout (rolls back on failure); --dry-run prints the manifests
  status     rollout, pods, endpoints and external address of a deployed app
  logs       server logs of every pod of an app (-f follows)
  port-forward  forward a local port to a ready pod of an app
  delete     delete everything Skiff created for an app

Run "skiff <command> --help" for a command's options. Docs: README.md and docs/.
`;

type Command = (io: CommandIo) => Promise<number>;

// Each command is imported only when it runs: `skiff serve` must not spend its cold start compiling the
// deploy, build and bench modules (about 0.1 s here), and `skiff deploy` never loads the ONNX addon.
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./commands/serve.js')).serveCommand,
  models: async () => (await import('./commands/models.js')).modelsCommand,
  bench: async () => (await import('./commands/bench.js')).benchCommand,
  build: async () => (await import('./commands/build.js')).buildCommand,
  push: async () => (await import('./commands/push.js')).pushCommand,
  'run-image': async () => (await import('./commands/run-image.js')).runImageCommand,
  deploy: async () => (await import('./commands/deploy.js')).deployCommand,
  status: async () => (await import('./commands/status.js')).statusCommand,
  logs: async () => (await import('./commands/logs.js')).logsCommand,
  'port-forward': async () => (await import('./commands/port-forward.js')).portForwardCommand,
  delete: async () => (await import('./commands/delete.js')).deleteCommand,
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Runs the CLI; start-up problems become one line on stderr and exit code 1 (stack only with --verbose). */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const io: CommandIo = {
    argv: rest,
    env: process.env,
    cwd: process.cwd(),
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stderrIsTty: process.stderr.isTTY,
  };
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.stdout(USAGE);
    return command === undefined ? 1 : 0;
  }
  if (command === '--version' || command === '-V') {
    io.stdout(`${version()}\n`);
    return 0;
  }
  const load = COMMANDS[command];
  if (load === undefined) {
    io.stderr(`skiff: unknown command "${command}"\n\n${USAGE}`);
    return 1;
  }
  try {
    const run = await load();
    return await run(io);
  } catch (error) {
    const verbose =
      rest.includes('--verbose') ||
      rest.includes('-v') ||
      /^(1|true)$/i.test(process.env.SKIFF_VERBOSE ?? '');
    if (isSkiffError(error)) {
      io.stderr(`skiff: error: ${error.message} [${error.code}]\n`);
    } else {
      io.stderr(`skiff: error: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    if (verbose && error instanceof Error)
      io.stderr(
        `${error.stack ?? ''}\n${error.cause instanceof Error ? `cause: ${error.cause.stack ?? error.cause.message}\n` : ''}`,
      );
    return 1;
  }
}

const code = await main(process.argv.slice(2));
// The server keeps handles open until it is closed; once main returns, nothing is left worth waiting for. A
// thread stuck in a native call (a model load that never returned) would hold process.exit() for ever.
await exitProcess(code, {
  waitMs: 1000,
  log: (message) => process.stderr.write(`skiff: ${message}\n`),
});
