#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { isSkiffError } from '../core/errors.js';
import { exitProcess } from '../host/exit-process.js';
import { envOf, flagOf } from '../config/option-table.js';
import { VERBOSE_OPTION } from '../config/shared-options.js';
import type { CommandIo } from './command-spec.js';
import { COMMANDS } from './command-table.js';

const USAGE = `Usage: skiff <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(9)}  ${c.summary}`).join('\n')}

Run "skiff <command> --help" for a command's options. Docs: README.md and docs/.
`;

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
  const spec = COMMANDS.find((c) => c.name === command);
  if (spec === undefined) {
    io.stderr(`skiff: unknown command "${command}"\n\n${USAGE}`);
    return 1;
  }
  try {
    const run = await spec.load();
    return await run(io);
  } catch (error) {
    const verbose =
      rest.includes(flagOf(VERBOSE_OPTION)) ||
      rest.includes(`-${VERBOSE_OPTION.short}`) ||
      /^(1|true)$/i.test(process.env[envOf(VERBOSE_OPTION)] ?? '');
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
