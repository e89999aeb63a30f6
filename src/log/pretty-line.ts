/** Keys every JSON log line has; the pretty form shows them in its fixed prefix instead. */
const PREFIX_KEYS = new Set(['level', 'time', 'msg']);
/**
 * Fields whose value is a stack, written by Skiff, shown on indented lines of their own. Any other field may
 * hold what a client sent (a model name, a path): its newlines are escaped like every control character.
 */
const MULTI_LINE_KEYS = new Set(['error', 'stack']);

/**
 * Turns one JSON log line (as pino writes it) into a line for people at a terminal:
 * `12:03:04.567 INFO  request requestId=... status=200`. A stack follows on indented lines so it stays
 * readable. A line that is not JSON passes through unchanged.
 */
export function prettyLine(jsonLine: string): string {
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(jsonLine);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return jsonLine;
    record = parsed as Record<string, unknown>;
  } catch {
    return jsonLine;
  }
  const time = typeof record.time === 'string' ? visible(record.time.slice(11, 23)) : '';
  const level = visible(typeof record.level === 'string' ? record.level : String(record.level)).toUpperCase();
  const message = typeof record.msg === 'string' ? visible(record.msg) : '';
  const pairs: string[] = [];
  const blocks: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (PREFIX_KEYS.has(key) || value === undefined) continue;
    if (typeof value === 'string' && value.includes('\n') && MULTI_LINE_KEYS.has(key)) {
      blocks.push(`    ${visible(key)}: ${value.split('\n').map(visible).join('\n    ')}`);
      continue;
    }
    pairs.push(`${visible(key)}=${typeof value === 'string' ? visible(value) : JSON.stringify(value)}`);
  }
  const head = [time, level.padEnd(5), message, ...pairs].filter((part) => part !== '').join(' ');
  return `${[head, ...blocks].join('\n')}\n`;
}

/**
 * Control characters and bidirectional overrides shown as escapes: a model name or path a client chose can
 * then neither forge a line (CR), recolour or rewrite the terminal (ESC, BEL), nor reorder what is read.
 */
// Matching control characters is the point here.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function visible(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
