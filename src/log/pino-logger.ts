import { pino } from 'pino';
import type { LogLevel, Logger } from '../core/logger.js';
import { prettyLine } from './pretty-line.js';

export interface PinoLoggerOptions {
  /** Receives whole lines, newline included; called synchronously from the logging call. */
  readonly write: (text: string) => void;
  /** `json`: one object per line for log collectors; `pretty`: aligned text for a terminal. */
  readonly format: 'json' | 'pretty';
  readonly level: LogLevel;
}

/**
 * The core Logger written by pino: one JSON object per line with `level` (a word, not pino's number),
 * an ISO `time`, the fields, and `msg`. No pid or hostname: a container's collector adds its own labels.
 * Lines are written on the calling thread (no worker transport), like the writes they replace; a write
 * that throws is dropped, because logging must never take a request down.
 */
export function createPinoLogger(options: PinoLoggerOptions): Logger {
  const write = options.write;
  const destination = {
    write:
      options.format === 'pretty'
        ? (line: string) => {
            write(prettyLine(line));
          }
        : write,
  };
  const log = pino(
    {
      level: options.level,
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, fields?: Record<string, unknown>): void => {
      try {
        if (fields === undefined) log[level](message);
        else log[level](fields, message);
      } catch {
        // See above: a broken pipe or a failing formatter costs the line, not the request.
      }
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
