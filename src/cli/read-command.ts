import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ConfigOf, OptionTable } from '../config/option-table.js';
import { loadConfig, readProjectFile } from '../config/load-config.js';
import { SkiffError } from '../core/errors.js';
import type { CommandIo, CommandSpec } from './command-spec.js';
import type { ParsedFlags } from './parse-flags.js';
import { parseFlags } from './parse-flags.js';
import { renderHelp } from './help.js';

/** A command's --help, from its declaration: the same table its parser reads. */
export function commandHelp(spec: CommandSpec): string {
  return renderHelp(
    spec.usage,
    spec.description,
    spec.flags ?? spec.options,
    spec.footer,
    spec.section === undefined ? 'flags' : 'flags-env-file',
  );
}

export function parseCommandFlags(spec: CommandSpec, argv: readonly string[]): ParsedFlags {
  return parseFlags(spec.flags ?? spec.options, argv);
}

/**
 * Loads a command's configuration from parsed flags, then the SKIFF_* variables and the project file where the
 * command reads them, and runs its cross-option check. Throws SKIFF_CONFIG_INVALID or SKIFF_CONFIG_UNREADABLE.
 */
export function loadCommandConfig<T extends OptionTable>(
  spec: CommandSpec<T>,
  flags: ParsedFlags,
  io: Pick<CommandIo, 'env' | 'cwd'>,
): ConfigOf<T> {
  let config: ConfigOf<T>;
  if (spec.section === undefined) {
    if (flags.configFile !== undefined)
      throw new SkiffError('SKIFF_CONFIG_INVALID', `skiff ${spec.name} takes flags only, not --config-file`);
    config = loadConfig(spec.options, { flags: flags.values, env: {} });
  } else {
    const projectFile = findProjectFile(flags.configFile, io.cwd);
    config = loadConfig(spec.options, {
      flags: flags.values,
      env: io.env,
      file:
        projectFile === undefined
          ? undefined
          : { path: projectFile, section: readProjectFile(projectFile, spec.section) },
    });
  }
  spec.check?.(config, flags.values);
  return config;
}

/** Parses and loads a command's configuration; with --help, prints the help instead and returns undefined. */
export function readCommand<T extends OptionTable>(
  spec: CommandSpec<T>,
  io: CommandIo,
): ConfigOf<T> | undefined {
  const flags = parseCommandFlags(spec, io.argv);
  if (flags.help) {
    io.stdout(commandHelp(spec));
    return undefined;
  }
  return loadCommandConfig(spec, flags, io);
}

/** Finds the project file: --config-file, else skiff.yaml / skiff.yml / skiff.json in the working directory. */
export function findProjectFile(explicit: string | undefined, cwd: string): string | undefined {
  if (explicit !== undefined) return path.resolve(cwd, explicit);
  for (const name of ['skiff.yaml', 'skiff.yml', 'skiff.json']) {
    const candidate = path.join(cwd, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}
