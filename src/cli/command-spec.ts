import type { ConfigOf, OptionTable } from '../config/option-table.js';

export interface CommandIo {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stderrIsTty: boolean;
}

export type Command = (io: CommandIo) => Promise<number>;

/** Flag values as the parser returns them, before loading: a check can tell "given" from "defaulted". */
export type FlagValues = Readonly<Record<string, string | boolean | undefined>>;

/**
 * Everything about one `skiff` command except what it does: the top-level help lists `summary`, its parser and
 * --help read `flags`, its configuration is `ConfigOf<T>` loaded from `options`, and `load` imports the code.
 */
export interface CommandSpec<T extends OptionTable = OptionTable> {
  readonly name: string;
  /** Its line in `skiff --help`. */
  readonly summary: string;
  /** After "Usage: " in its --help. */
  readonly usage: string;
  /** The paragraph under the usage line. */
  readonly description: string;
  /** What its --help ends with: examples, notes. */
  readonly footer: string;
  /** Every option its configuration holds, in --help order. */
  readonly options: T;
  /**
   * The options its flags may set (and --help lists), when fewer than `options`: the Kubernetes commands share
   * one project-file section, but each takes only its own flags.
   */
  readonly flags?: OptionTable;
  /**
   * The section of the project file it reads, along with the SKIFF_* variables. Without one it takes flags
   * only: for `bench`, a SKIFF_MODEL set for `serve` must not change what a benchmark sends.
   */
  readonly section?: string;
  /** Checks between options, once each is valid on its own; throws SKIFF_CONFIG_INVALID. */
  check?(config: ConfigOf<T>, flags: FlagValues): void;
  /** Imports what the command does, so that a command loads only its own modules. */
  readonly load: () => Promise<Command>;
}

/** Declares a command; only infers `T` from `options`, so that `check` receives the command's own type. */
export function command<const T extends OptionTable>(spec: CommandSpec<T>): CommandSpec<T> {
  return spec;
}
