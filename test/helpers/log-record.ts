/**
 * The first record of a JSON log (one object per line, as `skiff serve --log-format json` writes) that `pick`
 * turns into a value, in what has been written so far; undefined until then. A line still being written is
 * skipped: the rest comes with the next chunk.
 */
export function findLogRecord<T>(
  log: string,
  pick: (record: Record<string, unknown>) => T | undefined,
): T | undefined {
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      continue;
    }
    if (record === null || typeof record !== 'object') continue;
    const value = pick(record as Record<string, unknown>);
    if (value !== undefined) return value;
  }
  return undefined;
}
