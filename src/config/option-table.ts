import { z } from 'zod';

/**
 * One row per option: its flag, environment variable and file key are derived from `key` so they can never
 * drift apart. `--help`, docs/config.md and the loader all read this table.
 */
export interface OptionSpec {
  /** camelCase; also the key in the `serve` section of skiff.yaml / skiff.json. */
  readonly key: string;
  readonly type: 'string' | 'integer' | 'boolean';
  readonly description: string;
  /** Shown in --help and docs; `undefined` means "not set". */
  readonly defaultLabel: string;
  readonly schema: z.ZodTypeAny;
  readonly short?: string;
  readonly placeholder?: string;
}

/** `--verbose` / `-v` of the commands whose only extra output is the stack of an error. */
export const VERBOSE_OPTION = {
  key: 'verbose',
  short: 'v',
  type: 'boolean',
  description: 'stack traces for errors',
  defaultLabel: 'false',
  schema: z.boolean().default(false),
} as const satisfies OptionSpec;

export function flagOf(option: OptionSpec): string {
  return `--${option.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export function envOf(option: OptionSpec): string {
  return `SKIFF_${option.key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}
