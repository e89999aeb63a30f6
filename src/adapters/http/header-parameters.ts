/** A header value such as `form-data; name="image"; filename="dog.jpg"`: its leading value and its parameters. */
export interface HeaderParameters {
  /** The part before the first `;`, trimmed and in lower case (`form-data`, `multipart/form-data`). */
  readonly value: string;
  /** Parameter names in lower case; values unquoted. */
  readonly parameters: ReadonlyMap<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const TOKEN_CHAR = /^[!#$%&'*+.^_`|~0-9A-Za-z-]$/;
const SPACE = /[\s"]/;

/**
 * Reads `value *(; name=token-or-quoted-string)` in time linear in the header (headers are short and bounded;
 * no regular expression runs over the whole string). Two conventions meet in quoted strings: Go and older curl
 * write `\"` and `\\` (RFC 7230 quoted-pairs, which busboy read), while browsers, undici, curl and Python
 * requests percent-encode `"` and leave backslashes alone. So `\"` and `\\` are escapes, except that a `\"`
 * followed by the end of the header or by `; name=` closes the string after a literal backslash
 * (`name="C:\"; filename="x"`): a Go value would have to hold `"; name=` itself to be misread.
 * Anything ambiguous or cut short (a repeated parameter, an unterminated quote, text after a closing quote, a
 * parameter without `=`) gives undefined: the caller decides what that means.
 */
export function parseHeaderParameters(header: string): HeaderParameters | undefined {
  const length = header.length;
  const firstSemicolon = header.indexOf(';');
  const value = (firstSemicolon === -1 ? header : header.slice(0, firstSemicolon)).trim().toLowerCase();
  const parameters = new Map<string, string>();
  let at = firstSemicolon === -1 ? length : firstSemicolon + 1;
  while (at < length) {
    at = skipSpace(header, at);
    if (at === length) break;
    if (header[at] === ';') {
      at += 1;
      continue;
    }
    const equals = header.indexOf('=', at);
    if (equals === -1) return undefined;
    const name = header.slice(at, equals).trim().toLowerCase();
    if (!TOKEN.test(name) || parameters.has(name)) return undefined;
    at = skipSpace(header, equals + 1);
    let parameter: string;
    if (header[at] === '"') {
      const quoted = readQuoted(header, at + 1);
      if (quoted === undefined) return undefined;
      parameter = quoted.text;
      at = skipSpace(header, quoted.end);
      if (at < length && header[at] !== ';') return undefined;
    } else {
      const semicolon = header.indexOf(';', at);
      const end = semicolon === -1 ? length : semicolon;
      parameter = header.slice(at, end).trim();
      if (parameter === '' || SPACE.test(parameter)) return undefined;
      at = end;
    }
    parameters.set(name, parameter);
  }
  return { value, parameters };
}

/** The quoted string's text, starting just after its opening quote; `end` is just after the closing one. */
function readQuoted(header: string, start: number): { text: string; end: number } | undefined {
  let text = '';
  let from = start;
  for (let at = start; at < header.length; at++) {
    const char = header[at];
    if (char === '"') return { text: text + header.slice(from, at), end: at + 1 };
    const next = header[at + 1];
    if (char === '\\' && (next === '\\' || (next === '"' && !endsParameter(header, at + 2)))) {
      text += header.slice(from, at) + next;
      at += 1;
      from = at + 1;
    }
  }
  return undefined;
}

/** Whether what follows `from` is the end of the header or `; name=`: then a quote there closes a string. */
function endsParameter(header: string, from: number): boolean {
  const at = skipSpace(header, from);
  if (at === header.length) return true;
  if (header[at] !== ';') return false;
  const name = skipSpace(header, at + 1);
  let end = name;
  while (end < header.length && TOKEN_CHAR.test(header[end] ?? '')) end += 1;
  return end > name && header[skipSpace(header, end)] === '=';
}

function skipSpace(text: string, from: number): number {
  let at = from;
  while (text[at] === ' ' || text[at] === '\t') at += 1;
  return at;
}
