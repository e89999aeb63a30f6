/** One line of the Prometheus text exposition: `name{label="value",...} value [timestamp]`. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * Parses the Prometheus text format (version 0.0.4) into samples; comments (# HELP, # TYPE) are skipped.
 * Lines it cannot read are skipped rather than failing the whole scrape: one odd line from a future
 * metric should not blank every chart. Runs on the server (the history sampler) and in the browser.
 */
export function parsePrometheusText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  for (const line of text.split('\n')) {
    const sample = parseLine(line.trim());
    if (sample !== undefined) samples.push(sample);
  }
  return samples;
}

function parseLine(line: string): PromSample | undefined {
  if (line === '' || line.startsWith('#')) return undefined;
  const nameMatch = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(line);
  if (nameMatch === null) return undefined;
  const name = nameMatch[0];
  let at = name.length;
  const labels: Record<string, string> = {};
  if (line[at] === '{') {
    const parsed = parseLabels(line, at + 1, labels);
    if (parsed === undefined) return undefined;
    at = parsed;
  }
  const [valueText] = line.slice(at).trim().split(/\s+/);
  const value = parseValue(valueText ?? '');
  return value === undefined ? undefined : { name, labels, value };
}

/** Reads `a="x",b="y"}` from `start`; returns the index after `}`, or undefined when malformed. */
function parseLabels(line: string, start: number, into: Record<string, string>): number | undefined {
  let at = start;
  for (;;) {
    while (line[at] === ' ' || line[at] === ',') at++;
    if (line[at] === '}') return at + 1;
    const key = /^[A-Za-z_][A-Za-z0-9_]*/.exec(line.slice(at))?.[0];
    if (key === undefined) return undefined;
    at += key.length;
    if (line[at] !== '=' || line[at + 1] !== '"') return undefined;
    at += 2;
    let value = '';
    for (;;) {
      const c = line[at];
      if (c === undefined) return undefined;
      if (c === '"') break;
      if (c === '\\') {
        const next = line[at + 1];
        value += next === 'n' ? '\n' : (next ?? '');
        at += 2;
      } else {
        value += c;
        at++;
      }
    }
    into[key] = value;
    at++;
  }
}

function parseValue(text: string): number | undefined {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}
