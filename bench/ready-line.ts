import { findLogRecord } from '../test/helpers/log-record.js';

/**
 * The "ready in ..." line of `skiff serve`'s JSON log, found in what it has written so far: its message (the
 * cold-start breakdown) and the URL it serves. Each line is parsed as JSON, so field order does not matter.
 */
export function readyLine(log: string): { message: string; url: string } | undefined {
  return findLogRecord(log, ({ msg, url }) =>
    typeof msg === 'string' && msg.startsWith('ready in ') && typeof url === 'string'
      ? { message: msg, url }
      : undefined,
  );
}
