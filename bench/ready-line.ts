/**
 * The "ready in ..." line of `skiff serve`'s JSON log, found in what it has written so far: its message (the
 * cold-start breakdown) and the URL it serves. Each line is parsed as JSON, so field order does not matter.
 */
export function readyLine(log: string): { message: string; url: string } | undefined {
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const record = JSON.parse(line) as { msg?: unknown; url?: unknown };
      if (
        typeof record.msg === 'string' &&
        record.msg.startsWith('ready in ') &&
        typeof record.url === 'string'
      )
        return { message: record.msg, url: record.url };
    } catch {
      // A partial line: the rest comes with the next chunk.
    }
  }
  return undefined;
}
