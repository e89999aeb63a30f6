import type { Logger } from '../core/logger.js';

type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface StreamLoggerOptions {
  readonly write: (line: string) => void;
  /** Human-readable lines for a terminal; one JSON object per line otherwise (for log collectors). */
  readonly pretty: boolean;
  readonly level: Level;
  readonly now?: () => Date;
}

/** A Logger writing one line per event. Never throws: a failing write is dropped. */
export function createStreamLogger(options: StreamLoggerOptions): Logger {
  const now = options.now ?? (() => new Date());
  const emit = (level: Level, message: string, fields: Record<string, unknown> = {}): void => {
    if (ORDER[level] < ORDER[options.level]) return;
    try {
      if (options.pretty) {
        const extra = Object.entries(fields)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ');
        options.write(
          `${now().toISOString().slice(11, 23)} ${level.toUpperCase().padEnd(5)} ${message}${extra === '' ? '' : ` ${extra}`}\n`,
        );
      } else {
        options.write(`${JSON.stringify({ time: now().toISOString(), level, msg: message, ...fields })}\n`);
      }
    } catch {
      // Logging must never take a request down.
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
