import { SkiffError } from '../../core/errors.js';
import { parseHeaderParameters } from './header-parameters.js';

/** One field of a multipart/form-data body. */
export interface MultipartPart {
  /** As sent: browsers percent-encode `"`, CR and LF in names (`%22`), and nothing here decodes that. */
  readonly name: string;
  /** `filename*` (RFC 5987) when it decodes, else `filename`; present, even empty, on file fields. */
  readonly filename?: string;
  readonly contentType?: string;
  /** A view into the request body, not a copy: it lives as long as the body does. */
  readonly data: Buffer;
}

export interface MultipartLimits {
  /** Every part counts, including the ones skipped for unreadable headers. */
  readonly maxParts: number;
  readonly maxFiles: number;
  readonly maxFields: number;
  /** Per part, the header lines without the blank line that ends them. */
  readonly maxHeaderBytes: number;
  readonly maxHeaderLines: number;
}

/**
 * The limits /predict applies. Parts, files and fields are the ones @fastify/multipart had (docs/api.md);
 * 16 KiB and 100 lines of headers per part are refused here (busboy read 80 KiB and cut the rest silently).
 */
export const FORM_LIMITS: MultipartLimits = Object.freeze({
  maxParts: 40,
  maxFiles: 1,
  maxFields: 20,
  maxHeaderBytes: 16 * 1024,
  maxHeaderLines: 100,
});

const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;
const SPACE = 0x20;
const TAB = 0x09;
const BLANK_LINE = Buffer.from('\r\n\r\n');
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
/** RFC 2046 bchars: 1 to 70 of them, the last not a space. */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

/**
 * Splits a whole multipart/form-data body (RFC 7578, framed as RFC 2046 says) into its parts, each a view into
 * `body`. Lines end with CRLF, as every client sends them and busboy required; a bare LF is refused. The
 * preamble before the first delimiter and the epilogue after the closing one are skipped (they were counted
 * against --max-body-bytes with the rest of the body). Framing that cannot be read is refused; a part whose
 * headers cannot be read (no form-data Content-Disposition with a name, a line that is not a header, a repeated
 * header or parameter) is skipped, as busboy skipped it. Linear in the body: the delimiter is found with
 * Buffer.indexOf, each byte once, and header searches are bounded by `maxHeaderBytes`.
 * Throws SkiffError SKIFF_BAD_REQUEST, and nothing else.
 */
export function parseMultipart(body: Buffer, contentType: string, limits: MultipartLimits): MultipartPart[] {
  const boundary = boundaryOf(contentType);
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  // The first delimiter may open the body, without the CRLF that belongs to every later one.
  const opensBody =
    body.length >= delimiter.length - 2 &&
    body.compare(delimiter, 2, delimiter.length, 0, delimiter.length - 2) === 0;
  if (body.length === 0) throw malformed(`the body is empty; even an empty form is --${boundary}--`);
  const first = opensBody ? -2 : body.indexOf(delimiter);
  if (first === -1)
    throw malformed(`no line in the body is --${boundary}, the boundary its Content-Type names`);
  const parts: MultipartPart[] = [];
  let files = 0;
  let fields = 0;
  let at = first + delimiter.length;
  for (let index = 1; ; index++) {
    if (body[at] === DASH && body[at + 1] === DASH) return parts;
    at = afterDelimiterLine(body, at, index);
    if (index > limits.maxParts)
      throw malformed(`reach parts limit: a form may have at most ${limits.maxParts} parts`);
    const next = body.indexOf(delimiter, at);
    if (next === -1) throw malformed('Unexpected end of multipart data');
    const head = headerEnd(body, at, next, index, limits);
    const part = readPart(
      body.toString('utf8', at, head.end),
      body.subarray(head.dataStart, next),
      index,
      limits,
    );
    if (part !== undefined) {
      if (isFilePart(part)) {
        if (++files > limits.maxFiles)
          throw malformed(
            `reach files limit: a form may have at most ${limits.maxFiles} file${limits.maxFiles === 1 ? '' : 's'}`,
          );
      } else if (++fields > limits.maxFields) {
        throw malformed(`reach fields limit: a form may have at most ${limits.maxFields} fields`);
      }
      parts.push(part);
    }
    at = next + delimiter.length;
  }
}

/** Busboy's rule, which /predict has always used: a filename, or an octet-stream body, makes a file. */
export function isFilePart(part: MultipartPart): boolean {
  return (
    part.filename !== undefined ||
    part.contentType?.split(';')[0]?.trim().toLowerCase() === 'application/octet-stream'
  );
}

function boundaryOf(contentType: string): string {
  const header = parseHeaderParameters(contentType);
  if (header === undefined)
    throw malformed('the parameters of the Content-Type cannot be read (multipart/form-data; boundary=...)');
  if (header.value !== 'multipart/form-data')
    throw malformed('the Content-Type must be multipart/form-data; boundary=...');
  const boundary = header.parameters.get('boundary');
  if (boundary === undefined)
    throw malformed('the Content-Type names no boundary (multipart/form-data; boundary=...)');
  if (!BOUNDARY.test(boundary))
    throw malformed(
      "the boundary must be 1 to 70 letters, digits, spaces or '()+_,-./:=? and not end with a space",
    );
  return boundary;
}

/** After `--boundary`: optional spaces or tabs (RFC 2046's transport padding), then CRLF. */
function afterDelimiterLine(body: Buffer, from: number, index: number): number {
  let at = from;
  while (body[at] === SPACE || body[at] === TAB) at += 1;
  if (body[at] === CR && body[at + 1] === LF) return at + 2;
  if (at + 1 >= body.length) throw malformed('Unexpected end of multipart data');
  if (body[at] === LF)
    throw malformed(
      `the boundary line before part ${index} ends with a bare LF; multipart lines end with CRLF`,
    );
  throw malformed(`the boundary line before part ${index} has more after the boundary; it must end there`);
}

/**
 * Where part `index`'s headers end (before their last CRLF) and its data starts, given `next`, where the
 * delimiter after it starts. Only the first `maxHeaderBytes` are searched for the blank line.
 */
function headerEnd(
  body: Buffer,
  start: number,
  next: number,
  index: number,
  limits: MultipartLimits,
): { end: number; dataStart: number } {
  // A delimiter right away leaves no blank line: its CRLF cannot also end the headers.
  if (next === start) throw noBlankLine(index);
  if (body[start] === CR && body[start + 1] === LF) return { end: start, dataStart: start + 2 };
  const searchEnd = Math.min(next, start + limits.maxHeaderBytes + BLANK_LINE.length);
  const blank = body.subarray(start, searchEnd).indexOf(BLANK_LINE);
  if (blank === -1) {
    if (searchEnd < next)
      throw malformed(`the headers of part ${index} are larger than ${limits.maxHeaderBytes} bytes`);
    throw noBlankLine(index);
  }
  return { end: start + blank, dataStart: start + blank + BLANK_LINE.length };
}

function readPart(
  headerText: string,
  data: Buffer,
  index: number,
  limits: MultipartLimits,
): MultipartPart | undefined {
  const headers = readHeaders(headerText, index, limits);
  const disposition = headers?.get('content-disposition');
  if (headers === undefined || disposition === undefined) return undefined;
  const parsed = parseHeaderParameters(disposition);
  const name = parsed?.parameters.get('name');
  if (parsed?.value !== 'form-data' || name === undefined) return undefined;
  const filename = decodeExtended(parsed.parameters.get('filename*')) ?? parsed.parameters.get('filename');
  const contentType = headers.get('content-type');
  return {
    name,
    ...(filename === undefined ? {} : { filename }),
    ...(contentType === undefined ? {} : { contentType }),
    data,
  };
}

/**
 * Header names in lower case and their values; undefined when a line is not a header or a header the part is
 * read by comes twice (which one would count is exactly what two parsers disagree on).
 */
function readHeaders(text: string, index: number, limits: MultipartLimits): Map<string, string> | undefined {
  const headers = new Map<string, string>();
  if (text === '') return headers;
  const lines = text.split('\r\n');
  if (lines.length > limits.maxHeaderLines)
    throw malformed(`part ${index} has more than ${limits.maxHeaderLines} header lines`);
  let last: string | undefined;
  let unreadable = false;
  for (const line of lines) {
    if (line.includes('\r') || line.includes('\n')) unreadable = true;
    const folded = line.startsWith(' ') || line.startsWith('\t');
    if (folded && last !== undefined) {
      // Obsolete line folding (RFC 5322): the line continues the previous header's value.
      headers.set(last, `${headers.get(last) ?? ''} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    if (colon <= 0 || folded || !HEADER_NAME.test(name)) unreadable = true;
    if (headers.has(name) && (name === 'content-disposition' || name === 'content-type')) unreadable = true;
    last = name;
    headers.set(name, line.slice(colon + 1).trim());
  }
  return unreadable ? undefined : headers;
}

/** RFC 5987's `charset'language'percent-encoded` in UTF-8 or ISO-8859-1; undefined when it does not decode. */
function decodeExtended(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const charsetEnd = value.indexOf("'");
  const languageEnd = value.indexOf("'", charsetEnd + 1);
  if (charsetEnd === -1 || languageEnd === -1) return undefined;
  const charset = value.slice(0, charsetEnd).toLowerCase();
  const encoded = value.slice(languageEnd + 1);
  if (!/^(?:[!#$&+.^_`|~0-9A-Za-z-]|%[0-9A-Fa-f]{2})*$/.test(encoded)) return undefined;
  if (charset === 'utf-8') {
    try {
      return decodeURIComponent(encoded);
    } catch {
      return undefined;
    }
  }
  if (charset === 'iso-8859-1')
    return encoded.replace(/%([0-9A-Fa-f]{2})/g, (_match, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    );
  return undefined;
}

function noBlankLine(index: number): SkiffError {
  return malformed(`part ${index} has no blank line between its headers and its content`);
}

function malformed(detail: string): SkiffError {
  return new SkiffError('SKIFF_BAD_REQUEST', `malformed multipart request: ${detail}`);
}
