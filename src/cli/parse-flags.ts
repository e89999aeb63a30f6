import { parseArgs } from 'node:util';
import type { OptionSpec } from '../config/option-table.js';
import { flagOf } from '../config/option-table.js';
import { SkiffError } from '../core/errors.js';

export interface ParsedFlags {
  readonly values: Record<string, string | boolean | undefined>;
  readonly help: boolean;
  readonly configFile: string | undefined;
}

/** Parses a command's flags from its option table (plus --help and --config-file). Unknown flags are errors. */
export function parseFlags(options: readonly OptionSpec[], argv: readonly string[]): ParsedFlags {
  const table: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    'config-file': { type: 'string' },
  };
  const keyOfFlag = new Map<string, string>();
  for (const option of options) {
    const flag = flagOf(option).slice('--'.length);
    keyOfFlag.set(flag, option.key);
    table[flag] = {
      type: option.type === 'boolean' ? 'boolean' : 'string',
      ...(option.short === undefined ? {} : { short: option.short }),
    };
  }
  // `--no-<flag>` turns a boolean option off (Node 20's parseArgs has no negation of its own).
  const negated: string[] = [];
  const args = argv.filter((arg) => {
    const flag = /^--no-([a-z][a-z0-9-]*)$/.exec(arg)?.[1];
    const key = flag === undefined ? undefined : keyOfFlag.get(flag);
    if (key === undefined || table[flag ?? '']?.type !== 'boolean') return true;
    negated.push(key);
    return false;
  });
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options: table, allowPositionals: false, strict: true });
  } catch (error) {
    const raw = error instanceof Error ? error.message : String(error);
    const ambiguous = /^Option '(--[a-z-]+)[^']*' argument is ambiguous/.exec(raw);
    const message =
      ambiguous?.[1] !== undefined
        ? `option ${ambiguous[1]}: write a value starting with "-" as ${ambiguous[1]}=<value>`
        : raw.replace(/\s*(Did you forget|To specify).*$/s, '');
    throw new SkiffError('SKIFF_CONFIG_INVALID', `${message}; see --help`);
  }
  const values: Record<string, string | boolean | undefined> = {};
  for (const [flag, value] of Object.entries(parsed.values)) {
    const key = keyOfFlag.get(flag);
    if (key !== undefined && (typeof value === 'string' || typeof value === 'boolean')) values[key] = value;
  }
  for (const key of negated) values[key] = false;
  const configFile = parsed.values['config-file'];
  return {
    values,
    help: parsed.values.help === true,
    configFile: typeof configFile === 'string' ? configFile : undefined,
  };
}
