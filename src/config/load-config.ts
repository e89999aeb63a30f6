import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { ConfigOf, OptionSpec, OptionTable } from './option-table.js';
import { envOf, flagOf } from './option-table.js';
import { SkiffError } from '../core/errors.js';
import { readRegularFileSync } from '../host/regular-file.js';

// The YAML parser takes ~40 ms to import, a twentieth of a cold start; only a skiff.yaml needs it.
const requireModule = createRequire(import.meta.url);
function parseYaml(text: string): unknown {
  return (requireModule('yaml') as typeof Yaml).parse(text);
}

export interface ConfigSources {
  /** Values from command-line flags, already typed by the CLI parser. */
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The project file (skiff.yaml or skiff.json), if one was found, and its path for messages. */
  readonly file?: { readonly path: string; readonly section: Readonly<Record<string, unknown>> } | undefined;
}

/**
 * Merges flags > SKIFF_* environment > project file > defaults, validates every value once, and returns a
 * frozen object. Throws SKIFF_CONFIG_INVALID naming the option and where its bad value came from.
 */
export function loadConfig<const T extends OptionTable>(options: T, sources: ConfigSources): ConfigOf<T> {
  const known = new Set(options.map((o) => o.key));
  for (const key of Object.keys(sources.file?.section ?? {})) {
    if (!known.has(key)) {
      throw new SkiffError(
        'SKIFF_CONFIG_INVALID',
        `${sources.file?.path ?? 'config file'}: unknown key "${key}"`,
      );
    }
  }
  const result: Record<string, unknown> = {};
  for (const option of options) {
    const [raw, origin] = pick(option, sources);
    const value = raw === undefined ? undefined : coerce(option, raw, origin);
    const parsed = option.schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]?.message ?? 'invalid value';
      throw new SkiffError('SKIFF_CONFIG_INVALID', `${origin}: ${issue}`);
    }
    if (parsed.data !== undefined) result[option.key] = parsed.data;
  }
  return typedAs<T>(Object.freeze(result));
}

/**
 * The configuration's one type assertion. TypeScript cannot follow a loop over a table's rows into the mapped
 * type that describes them; `values` holds, under each row's key, what that row's schema returned (`undefined`
 * left out), which is what `ConfigOf` says. Only `loadConfig` calls this, right after building it so.
 */
function typedAs<T extends OptionTable>(values: Readonly<Record<string, unknown>>): ConfigOf<T> {
  return values as ConfigOf<T>;
}

function pick(option: OptionSpec, sources: ConfigSources): [unknown, string] {
  const flag = sources.flags[option.key];
  if (flag !== undefined) return [flag, `option ${flagOf(option)}`];
  const env = sources.env[envOf(option)];
  if (env !== undefined && env !== '') return [env, `environment variable ${envOf(option)}`];
  const file = sources.file?.section[option.key];
  if (file !== undefined) return [file, `${sources.file?.path ?? 'config file'} key "${option.key}"`];
  return [undefined, `option ${flagOf(option)}`];
}

/** Strings from flags and the environment become the option's type; file values must already have it. */
function coerce(option: OptionSpec, raw: unknown, origin: string): unknown {
  if (typeof raw !== 'string') return raw;
  if (option.type === 'integer') {
    if (!/^-?\d+$/.test(raw.trim()))
      throw new SkiffError('SKIFF_CONFIG_INVALID', `${origin}: expected a whole number, got "${raw}"`);
    return Number(raw.trim());
  }
  if (option.type === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new SkiffError('SKIFF_CONFIG_INVALID', `${origin}: expected true or false, got "${raw}"`);
  }
  return raw;
}

/**
 * Reads the `section` of a project file (YAML or JSON), which must be a regular file. Throws
 * SKIFF_CONFIG_UNREADABLE with the reason. Synchronous: commands read it before they handle any signal.
 */
export function readProjectFile(path: string, section: string): Record<string, unknown> {
  const text = readRegularFileSync(path, { code: 'SKIFF_CONFIG_UNREADABLE', what: '' }).toString('utf8');
  let document: unknown;
  try {
    document = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new SkiffError(
      'SKIFF_CONFIG_UNREADABLE',
      `${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${firstLine(error)}`,
      {
        cause: error,
      },
    );
  }
  if (document === null || document === undefined) return {};
  if (!isMapping(document)) {
    throw new SkiffError('SKIFF_CONFIG_INVALID', `${path}: expected a mapping at the top level`);
  }
  const value = document[section];
  if (value === undefined) return {};
  if (!isMapping(value)) {
    throw new SkiffError('SKIFF_CONFIG_INVALID', `${path}: "${section}" must be a mapping`);
  }
  return value;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
