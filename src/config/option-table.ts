import { z } from 'zod';

/**
 * One row per option: its flag, environment variable and file key are derived from `key` so they can never
 * drift apart. `--help`, the docs and the loader all read these tables, and each command's configuration
 * type is derived from its table (`ConfigOf`), so a row is the only place an option is declared.
 */
export interface OptionSpec {
  /** camelCase; also the key in the command's section of skiff.yaml / skiff.json. */
  readonly key: string;
  readonly type: 'string' | 'integer' | 'boolean';
  readonly description: string;
  /** Shown in --help and docs; `undefined` means "not set". */
  readonly defaultLabel: string;
  // `unknown` rather than zod's `any`: a table widened to OptionTable must not type its values as `any`.
  readonly schema: z.ZodType<unknown, z.ZodTypeDef, unknown>;
  readonly short?: string;
  readonly placeholder?: string;
}

export type OptionTable = readonly OptionSpec[];

type ValueOf<O extends OptionSpec> = z.output<O['schema']>;

/**
 * The configuration a table loads into: each row's key with what its schema returns, optional where the schema
 * may return `undefined` (no default). Tables keep their literal types with `as const satisfies OptionTable`.
 */
export type ConfigOf<T extends OptionTable> = Readonly<
  {
    [O in T[number] as undefined extends ValueOf<O> ? never : O['key']]: ValueOf<O>;
  } & {
    [O in T[number] as undefined extends ValueOf<O> ? O['key'] : never]?: ValueOf<O>;
  }
>;

export function flagOf(option: OptionSpec): string {
  return `--${option.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export function envOf(option: OptionSpec): string {
  return `SKIFF_${option.key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}
