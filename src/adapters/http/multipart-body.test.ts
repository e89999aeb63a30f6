import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FORM_LIMITS, parseMultipart } from './multipart-body.js';
import type { MultipartLimits, MultipartPart } from './multipart-body.js';
import { isSkiffError } from '../../core/errors.js';

/** What a test expects of a part; `data` compared byte for byte. */
interface Spec {
  readonly name: string;
  readonly filename?: string | undefined;
  readonly contentType?: string | undefined;
  readonly data: Uint8Array;
}

const WIDE: MultipartLimits = { ...FORM_LIMITS, maxParts: 100, maxFiles: 100, maxFields: 100 };

/** A quoted string as RFC 2616 writes it: only `"` and `\` need a backslash. */
const quote = (text: string): string => `"${text.replace(/["\\]/g, '\\$&')}"`;

/** A correct body: what a careful client sends, with optional preamble, epilogue and transport padding. */
function serialize(
  boundary: string,
  specs: readonly Spec[],
  options: { preamble?: Uint8Array; epilogue?: Uint8Array; padding?: readonly string[] } = {},
): Buffer {
  const chunks: Uint8Array[] = [];
  const preamble = options.preamble ?? new Uint8Array(0);
  if (preamble.length > 0) chunks.push(preamble, Buffer.from('\r\n'));
  specs.forEach((spec, index) => {
    const disposition = `form-data; name=${quote(spec.name)}${
      spec.filename === undefined ? '' : `; filename=${quote(spec.filename)}`
    }`;
    const type = spec.contentType === undefined ? '' : `\r\nContent-Type: ${spec.contentType}`;
    const padding = options.padding?.[index] ?? '';
    chunks.push(
      Buffer.from(`${index === 0 ? '' : '\r\n'}--${boundary}${padding}\r\n`),
      Buffer.from(`Content-Disposition: ${disposition}${type}\r\n\r\n`),
      spec.data,
    );
  });
  chunks.push(Buffer.from(`${specs.length === 0 ? '' : '\r\n'}--${boundary}--`));
  if (options.epilogue !== undefined) chunks.push(Buffer.from('\r\n'), options.epilogue);
  return Buffer.concat(chunks);
}

async function fromFormData(form: FormData): Promise<{ body: Buffer; contentType: string }> {
  const response = new Response(form);
  return {
    body: Buffer.from(await response.arrayBuffer()),
    contentType: response.headers.get('content-type') ?? '',
  };
}

/** The parts as plain values, so deepEqual compares their bytes; also checks every part is a view of `body`. */
function plain(parts: readonly MultipartPart[], body: Buffer): Spec[] {
  return parts.map((part) => {
    assert.equal(part.data.buffer, body.buffer, 'data is a view into the body, not a copy');
    assert.ok(part.data.byteOffset >= body.byteOffset);
    assert.ok(part.data.byteOffset + part.data.length <= body.byteOffset + body.length);
    return {
      name: part.name,
      filename: part.filename,
      contentType: part.contentType,
      data: new Uint8Array(part.data),
    };
  });
}

const expected = (specs: readonly Spec[]): Spec[] =>
  specs.map((s) => ({
    name: s.name,
    filename: s.filename,
    contentType: s.contentType,
    data: new Uint8Array(s.data),
  }));

function refused(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(isSkiffError(error), `not a SkiffError: ${String(error)}`);
    assert.equal(error.code, 'SKIFF_BAD_REQUEST');
    assert.match(error.message, /^malformed multipart request: /);
    assert.match(error.message, message);
    return true;
  });
}

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');
const type = (boundary: string): string => `multipart/form-data; boundary=${boundary}`;
const parse = (body: string | Buffer, boundary = 'b', limits = FORM_LIMITS): MultipartPart[] =>
  parseMultipart(typeof body === 'string' ? bytes(body) : body, type(boundary), limits);
const onePart = (headers: string, data = 'x'): string => `--b\r\n${headers}\r\n\r\n${data}\r\n--b--\r\n`;
const file = (name = 'image'): string =>
  `--b\r\nContent-Disposition: form-data; name="${name}"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\nJPEG\r\n`;
const field = (name: string): string => `--b\r\nContent-Disposition: form-data; name="${name}"\r\n\r\nv\r\n`;

describe('parseMultipart: what real clients send', () => {
  test("Node's FormData (undici): fields, files, a Blob without a type, bytes that look like framing", async () => {
    const tricky = bytes('\r\n--\r\n\r\n--formdata-undici\r\n\n--\r');
    const form = new FormData();
    form.append('note', 'hello');
    form.append('image', new Blob([tricky], { type: 'image/jpeg' }), 'dog.jpg');
    form.append('raw', new Blob([new Uint8Array([0, 255, 13])]), 'raw.bin');
    const { body, contentType } = await fromFormData(form);
    assert.match(contentType, /^multipart\/form-data; boundary=-+formdata-undici-\d+$/);
    assert.deepEqual(plain(parseMultipart(body, contentType, WIDE), body), [
      { name: 'note', filename: undefined, contentType: undefined, data: new Uint8Array(bytes('hello')) },
      { name: 'image', filename: 'dog.jpg', contentType: 'image/jpeg', data: new Uint8Array(tricky) },
      {
        name: 'raw',
        filename: 'raw.bin',
        contentType: 'application/octet-stream',
        data: new Uint8Array([0, 255, 13]),
      },
    ]);
  });

  test('undici percent-encodes ", CR and LF in names and filenames; they are returned as sent', async () => {
    const form = new FormData();
    form.append('a"b\r\nc', new Blob(['x']), 'x"y.jpg');
    const { body, contentType } = await fromFormData(form);
    const [part] = parseMultipart(body, contentType, FORM_LIMITS);
    assert.equal(part?.name, 'a%22b%0D%0Ac');
    assert.equal(part.filename, 'x%22y.jpg');
  });

  test('curl -F image=@f.bin;type=image/jpeg -F note=hello (curl 7.88, bytes as captured)', () => {
    const boundary = '------------------------fb8985178b546129';
    const body = bytes(
      `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="d%22q\\x.jpg"\r\nContent-Type: image/jpeg\r\n\r\nAB\r\n--CD\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--${boundary}--\r\n`,
    );
    assert.deepEqual(plain(parseMultipart(body, type(boundary), FORM_LIMITS), body), [
      {
        name: 'image',
        filename: 'd%22q\\x.jpg',
        contentType: 'image/jpeg',
        data: new Uint8Array(bytes('AB\r\n--CD')),
      },
      { name: 'note', filename: undefined, contentType: undefined, data: new Uint8Array(bytes('hello')) },
    ]);
  });

  test('Python requests (2.34): a file without a Content-Type, a uuid boundary', () => {
    const boundary = '42a872983747ee0eaf614b53114141e1';
    const body = bytes(
      `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="f.bin"\r\n\r\nAB\r\n--CD\r\n--${boundary}--\r\n`,
    );
    const [part] = parseMultipart(body, type(boundary), FORM_LIMITS);
    assert.equal(part?.name, 'image');
    assert.equal(part.filename, 'f.bin');
    assert.equal(part.contentType, undefined);
    assert.equal(part.data.toString('latin1'), 'AB\r\n--CD');
  });

  test('a browser (Chrome): WebKitFormBoundary, UTF-8 names as raw bytes, an empty file input', () => {
    const boundary = '----WebKitFormBoundary7MA4YWxkTrZu0gW';
    const body = Buffer.concat([
      bytes(`--${boundary}\r\nContent-Disposition: form-data; name="`),
      Buffer.from('café €'),
      bytes(`"\r\n\r\nv\r\n--${boundary}\r\nContent-Disposition: form-data; name="image"; filename=""\r\n`),
      bytes(`Content-Type: application/octet-stream\r\n\r\n\r\n--${boundary}--\r\n`),
    ]);
    const parts = parseMultipart(body, type(boundary), FORM_LIMITS);
    assert.deepEqual(
      parts.map((p) => [p.name, p.filename, p.data.length]),
      [
        ['café €', undefined, 1],
        ['image', '', 0],
      ],
    );
  });

  test('a quoted boundary, with the characters that need quotes (RFC 2046 "simple boundary")', () => {
    for (const boundary of ['simple boundary', "a'()+_,-./:=?z", 'x'.repeat(70)]) {
      const body = serialize(boundary, [{ name: 'a', data: bytes('1') }]);
      const parts = parseMultipart(
        body,
        `Multipart/Form-Data; charset=utf-8; BOUNDARY="${boundary}"`,
        FORM_LIMITS,
      );
      assert.equal(parts[0]?.data.toString(), '1', boundary);
    }
  });

  test('quoted names and filenames: \\" and \\\\ are escapes, any other backslash stays (as busboy reads them)', () => {
    const parts = parse(
      onePart('Content-Disposition: form-data; name="a\\"b\\\\c"; filename="C:\\fakepath\\x \\"1\\".jpg"'),
    );
    assert.equal(parts[0]?.name, 'a"b\\c');
    assert.equal(parts[0].filename, 'C:\\fakepath\\x "1".jpg');
  });

  test('Go (mime/multipart) writes quoted-pairs; browsers leave a backslash alone, even the last one', () => {
    // Go's CreateFormFile for the name `say "hi"\` and the file `my "dog".jpg`.
    const [go] = parse(
      onePart('Content-Disposition: form-data; name="say \\"hi\\"\\\\"; filename="my \\"dog\\".jpg"'),
    );
    assert.equal(go?.name, 'say "hi"\\');
    assert.equal(go.filename, 'my "dog".jpg');
    const [semicolon] = parse(onePart('Content-Disposition: form-data; name="a\\";b"; filename="c\\"; d"'));
    assert.deepEqual([semicolon?.name, semicolon?.filename], ['a";b', 'c"; d']);
    // A browser's name `dir\` (quotes would be %22): the quote after the backslash closes the string.
    const [browser] = parse(onePart('Content-Disposition: form-data; name="dir\\"; filename="C:\\"'));
    assert.equal(browser?.name, 'dir\\');
    assert.equal(browser.filename, 'C:\\');
  });

  test('unquoted parameters, spaces around them, any case', () => {
    const parts = parse(onePart('content-disposition:FORM-DATA ;  NAME=image ; filename = a.jpg'));
    assert.equal(parts[0]?.name, 'image');
    assert.equal(parts[0].filename, 'a.jpg');
  });

  test('filename* (RFC 5987) wins when it decodes; one that does not is ignored', () => {
    const [utf8] = parse(
      onePart(
        `Content-Disposition: form-data; name="f"; filename="euro.jpg"; filename*=UTF-8''%E2%82%AC.jpg`,
      ),
    );
    assert.equal(utf8?.filename, '€.jpg');
    const [latin1] = parse(
      onePart(`Content-Disposition: form-data; name="f"; filename*=iso-8859-1'en'%E9.jpg`),
    );
    assert.equal(latin1?.filename, 'é.jpg');
    const [bad] = parse(
      onePart(`Content-Disposition: form-data; name="f"; filename="x"; filename*=UTF-8''%FF`),
    );
    assert.equal(bad?.filename, 'x');
  });

  test('preamble and epilogue are skipped, whatever they hold', () => {
    const body = bytes(
      `preamble --b and \r\n--bx is no delimiter?\r\n` +
        `--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--\r\n` +
        `epilogue\r\n--b\r\nContent-Disposition: form-data; name="hidden"\r\n\r\n2\r\n--b--`,
    );
    // "\r\n--bx" in the preamble is a delimiter line with more after the boundary: refused, not guessed.
    refused(() => parse(body), /the boundary line before part 1 has more after the boundary/);
    const fine = bytes(
      `preamble --b, and \r\n--c\r\n--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--\r\nepilogue\r\n--b\r\n`,
    );
    assert.deepEqual(
      parse(fine).map((p) => p.name),
      ['a'],
    );
  });

  test('transport padding (spaces, tabs) after a boundary is allowed; the closing one needs nothing after', () => {
    const body = serialize(
      'b',
      [
        { name: 'a', data: bytes('1') },
        { name: 'c', data: bytes('2') },
      ],
      {
        padding: [' \t ', '\t'],
      },
    );
    assert.deepEqual(
      parse(body).map((p) => p.data.toString()),
      ['1', '2'],
    );
    assert.equal(parse('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--').length, 1);
  });

  test('a form with no parts, and parts with empty or CRLF-only data', () => {
    assert.deepEqual(parse('--b--\r\n'), []);
    const parts = parse(
      `${field('a').replace('v\r\n', '\r\n')}${field('c').replace('v\r\n', '\r\n\r\n')}--b--`,
    );
    assert.deepEqual(
      parts.map((p) => p.data.toString('latin1')),
      ['', '\r\n'],
    );
  });

  test('a part without headers at all is skipped, as is one without a form-data name', () => {
    const body =
      '--b\r\n\r\nno headers\r\n' +
      '--b\r\nContent-Type: text/plain\r\n\r\nno disposition\r\n' +
      '--b\r\nContent-Disposition: attachment; name="x"\r\n\r\nnot form-data\r\n' +
      '--b\r\nContent-Disposition: form-data; filename="x"\r\n\r\nno name\r\n' +
      '--b\r\nContent-Disposition: form-data; name="kept"\r\n\r\nkept\r\n--b--';
    assert.deepEqual(
      parse(body).map((p) => p.name),
      ['kept'],
    );
  });

  test('a part whose headers cannot be read unambiguously is skipped', () => {
    for (const headers of [
      'this is not a header',
      'Content-Disposition: form-data; name="image"; filename="a.jpg"\r\nthis is not a header',
      ': no name',
      ' folded first line',
      'Content Disposition: form-data; name="image"',
      'Content-Disposition: form-data; name="x"; name="image"',
      'Content-Disposition: form-data; name="image"\r\nContent-Disposition: form-data; name="x"',
      'Content-Disposition: form-data; name="image"\r\nContent-Type: a/b\r\nContent-Type: c/d',
      'Content-Disposition: form-data; name="ima\nge"',
      'Content-Disposition: form-data; name="image',
      'Content-Disposition: form-data; name="image"x',
      'Content-Disposition: form-data; name',
    ]) {
      assert.deepEqual(parse(onePart(headers)), [], JSON.stringify(headers));
    }
  });

  test('folded header lines continue the previous header', () => {
    const [part] = parse(onePart('Content-Disposition: form-data;\r\n\tname="image";\r\n filename="a.jpg"'));
    assert.equal(part?.name, 'image');
    assert.equal(part.filename, 'a.jpg');
  });

  test('a bare LF in data is data; lines of the framing need CRLF', () => {
    const [part] = parse(onePart('Content-Disposition: form-data; name="a"', 'x\n--b\ny\r--b\r'));
    assert.equal(part?.data.toString(), 'x\n--b\ny\r--b\r');
    refused(
      () => parse(onePart('Content-Disposition: form-data; name="a"').replaceAll('\r\n', '\n')),
      /the boundary line before part 1 ends with a bare LF; multipart lines end with CRLF$/,
    );
    // With CRLF after the boundary only, the headers never end in a blank line.
    refused(
      () => parse('--b\r\nContent-Disposition: form-data; name="a"\n\nx\r\n--b--'),
      /part 1 has no blank line between its headers and its content$/,
    );
  });
});

describe('parseMultipart: refusals', () => {
  test('a Content-Type without a usable boundary', () => {
    const body = bytes(onePart('Content-Disposition: form-data; name="a"'));
    const cases: [string, RegExp][] = [
      ['multipart/form-data', /names no boundary/],
      ['multipart/form-data; charset=utf-8', /names no boundary/],
      ['multipart/form-data; boundary=', /parameters of the Content-Type cannot be read/],
      ['multipart/form-data; boundary="b', /parameters of the Content-Type cannot be read/],
      ['multipart/form-data; boundary=b; boundary=c', /parameters of the Content-Type cannot be read/],
      ['multipart/form-data; boundary=""', /the boundary must be 1 to 70/],
      [`multipart/form-data; boundary=${'x'.repeat(71)}`, /the boundary must be 1 to 70/],
      ['multipart/form-data; boundary=a{b', /the boundary must be 1 to 70/],
      ['multipart/form-data; boundary="b "', /not end with a space/],
      ['multipart/mixed; boundary=b', /must be multipart\/form-data/],
    ];
    for (const [contentType, message] of cases)
      refused(() => parseMultipart(body, contentType, FORM_LIMITS), message);
  });

  test('a body in which the boundary never starts a line', () => {
    refused(() => parse(''), /the body is empty; even an empty form is --b--$/);
    for (const body of ['garbage without parts', 'x--b\r\n', '-b--'])
      refused(() => parse(body), /no line in the body is --b, the boundary its Content-Type names$/);
  });

  test('a body cut short anywhere before its closing boundary: "Unexpected end of multipart data"', () => {
    const whole = onePart('Content-Disposition: form-data; name="a"; filename="a"', 'data');
    const close = whole.indexOf('\r\n--b--');
    for (let end = 3; end < close + 5; end++) {
      const cut = whole.slice(0, end);
      if (cut.endsWith('\r\n--b') && end > 5) continue; // ends exactly at a delimiter: covered below
      refused(
        () => parse(cut),
        /(Unexpected end of multipart data|has no blank line|more after the boundary)$/,
      );
    }
    refused(
      () => parse(whole.slice(0, close)),
      /^malformed multipart request: Unexpected end of multipart data$/,
    );
    refused(
      () => parse(whole.slice(0, close + 5)),
      /^malformed multipart request: Unexpected end of multipart data$/,
    );
    refused(() => parse(whole.slice(0, close + 6)), /Unexpected end of multipart data$/);
  });

  test('something after the boundary on its line', () => {
    refused(
      () => parse(`--bjunk\r\n${onePart('Content-Disposition: form-data; name="a"').slice(5)}`),
      /the boundary line before part 1 has more after the boundary; it must end there$/,
    );
    refused(
      () => parse(`${field('a')}--b x\r\n${field('c').slice(5)}--b--`),
      /the boundary line before part 2 has more after the boundary/,
    );
  });

  test('headers without the blank line that ends them', () => {
    refused(
      () => parse('--b\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n--b--\r\n'),
      /^malformed multipart request: part 1 has no blank line between its headers and its content$/,
    );
    refused(() => parse(`${field('a')}--b\r\n\r\n--b--`), /part 2 has no blank line/);
  });

  test('part headers over maxHeaderBytes or maxHeaderLines; exactly at the limit is fine', () => {
    const limits = { ...FORM_LIMITS, maxHeaderBytes: 100, maxHeaderLines: 3 };
    const disposition = 'Content-Disposition: form-data; name="a"';
    const sized = (bytesOfHeaders: number): string =>
      onePart(`${disposition}\r\nX: ${'y'.repeat(bytesOfHeaders - disposition.length - 5)}`);
    assert.equal(parse(sized(100), 'b', limits).length, 1);
    refused(
      () => parse(sized(101), 'b', limits),
      /^malformed multipart request: the headers of part 1 are larger than 100 bytes$/,
    );
    assert.equal(parse(onePart(`${disposition}\r\nX: 1\r\nY: 2`), 'b', limits).length, 1);
    refused(
      () => parse(onePart(`${disposition}\r\nX: 1\r\nY: 2\r\nZ: 3`), 'b', limits),
      /^malformed multipart request: part 1 has more than 3 header lines$/,
    );
    // The defaults: 16 KiB and 100 lines.
    refused(() => parse(onePart(`${disposition}\r\nX: ${'y'.repeat(20_000)}`)), /larger than 16384 bytes$/);
    refused(() => parse(onePart(disposition + '\r\nX: 1'.repeat(100))), /more than 100 header lines$/);
  });

  test('too many parts, files or fields (the defaults: 40, 1, 20)', () => {
    const fields = (n: number): string => Array.from({ length: n }, (_, i) => field(`f${i}`)).join('');
    assert.equal(parse(`${fields(20)}${file()}--b--`).length, 21);
    refused(
      () => parse(`${fields(21)}${file()}--b--`),
      /^malformed multipart request: reach fields limit: a form may have at most 20 fields$/,
    );
    refused(
      () => parse(`${file()}${file()}--b--`),
      /^malformed multipart request: reach files limit: a form may have at most 1 file$/,
    );
    const skipped = (n: number): string => '--b\r\n\r\nskipped\r\n'.repeat(n);
    assert.equal(parse(`${skipped(39)}${file()}--b--`).length, 1);
    refused(
      () => parse(`${skipped(40)}${file()}--b--`),
      /^malformed multipart request: reach parts limit: a form may have at most 40 parts$/,
    );
    // The limit counts parts as they come: the body after the 41st delimiter is not even searched.
    refused(() => parse(`${skipped(40)}--b\r\n`), /reach parts limit/);
  });
});

// ---- properties -------------------------------------------------------------------------------------------

const BCHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ";
const boundaryArbitrary = fc
  .string({ unit: fc.constantFrom(...Array.from(BCHARS)), minLength: 1, maxLength: 70 })
  .filter((b) => !b.endsWith(' '));

/** Names and filenames: anything a header can carry but CR and LF (no client can send those). */
const nameArbitrary = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom('"', '\\', ';', '=', ' ', "'", '%', '\t', 'é', '€', '😀', '-'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    ),
    maxLength: 12,
  })
  // A Go-style `\"` followed by `; name=` reads as a closing quote (header-parameters.ts says why).
  .filter((name) => !/[\r\n]/.test(name) && !/"[ \t]*;[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+[ \t]*=/.test(name));

/** Random bytes interleaved with pieces of framing and near-misses of the delimiter. */
function dataArbitrary(boundary: string): fc.Arbitrary<Uint8Array> {
  const lookalikes = [
    '\r\n',
    '\r\n\r\n',
    '--',
    '\n',
    '\r',
    `--${boundary}`,
    `\n--${boundary}`,
    `\r--${boundary}`,
    `\r\n-${boundary}`,
    `\r\n--${boundary.slice(0, -1)}`,
    `\r\n--${boundary.slice(1)}`,
    `\r\n--${boundary.slice(0, -1)}${boundary.endsWith('x') ? 'y' : 'x'}`.slice(0, 74),
  ].map((text) => new Uint8Array(bytes(text)));
  const delimiter = bytes(`\r\n--${boundary}`);
  return (
    fc
      .array(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(...lookalikes)), { maxLength: 8 })
      .map((chunks) => new Uint8Array(Buffer.concat(chunks)))
      // The one thing data may not hold (RFC 2046): the delimiter itself, which includes the CRLF before it.
      .filter((data) => !Buffer.concat([bytes('\r\n'), data]).includes(delimiter))
  );
}

const specArbitrary = (boundary: string): fc.Arbitrary<Spec> =>
  fc.record(
    {
      name: nameArbitrary,
      filename: nameArbitrary,
      contentType: fc.constantFrom('image/jpeg', 'application/octet-stream', 'text/plain; charset=utf-8'),
      data: dataArbitrary(boundary),
    },
    { requiredKeys: ['name', 'data'] },
  );

const formArbitrary = boundaryArbitrary.chain((boundary) =>
  fc.record({
    boundary: fc.constant(boundary),
    specs: fc.array(specArbitrary(boundary), { maxLength: 6 }),
    preamble: dataArbitrary(boundary),
    epilogue: fc.option(fc.uint8Array({ maxLength: 100 }), { nil: undefined }),
    padding: fc.array(fc.constantFrom('', ' ', '\t', '  \t'), { maxLength: 6 }),
    quoted: fc.boolean(),
  }),
);

const contentTypeOf = (boundary: string, quoted: boolean): string =>
  `multipart/form-data; boundary=${quoted || /[^\w'+.-]/.test(boundary) ? `"${boundary}"` : boundary}`;

describe('parseMultipart: properties (fast-check, fixed seeds)', () => {
  test('round trip: a correct body gives back exactly its parts, byte for byte', () => {
    fc.assert(
      fc.property(formArbitrary, ({ boundary, specs, preamble, epilogue, padding, quoted }) => {
        const body = serialize(boundary, specs, {
          preamble,
          ...(epilogue === undefined ? {} : { epilogue }),
          padding,
        });
        const parts = parseMultipart(body, contentTypeOf(boundary, quoted), WIDE);
        assert.deepEqual(plain(parts, body), expected(specs));
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  test("round trip through undici's own FormData serialization", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            name: nameArbitrary,
            filename: nameArbitrary,
            file: fc.boolean(),
            type: fc.constantFrom('', 'image/jpeg', 'text/plain'),
            data: dataArbitrary('----formdata-undici-0'),
            text: fc.string({
              unit: fc.oneof(fc.constantFrom('\r', '\n', 'é'), fc.string({ minLength: 1, maxLength: 1 })),
              maxLength: 40,
            }),
          }),
          { maxLength: 6 },
        ),
        async (fields) => {
          const form = new FormData();
          for (const f of fields) {
            if (f.file) form.append(f.name, new Blob([f.data], { type: f.type }), f.filename);
            else form.append(f.name, f.text);
          }
          const { body, contentType } = await fromFormData(form);
          // What undici writes (the HTML form encoding): ", CR, LF percent-encoded in names and
          // filenames, none of it decoded on the way back; newlines in text values normalized to CRLF; a
          // Blob without a type sent as application/octet-stream. Undici does not escape backslashes, so a
          // "\\\\" it writes is read as one (a quoted-pair): its only names that do not come back as given.
          const escape = (text: string): string =>
            text.replace(/\r\n|\r|\n/g, '\r\n').replace(/[\r\n"]/g, (c) => encodeURIComponent(c));
          const unescapeBackslashes = (text: string): string => text.replace(/\\([\\"])/g, '$1');
          const want: Spec[] = fields.map((f) => ({
            name: unescapeBackslashes(escape(f.name)),
            // Undici leaves out an empty filename (browsers send filename="").
            filename: f.file && f.filename !== '' ? unescapeBackslashes(escape(f.filename)) : undefined,
            contentType: f.file ? f.type || 'application/octet-stream' : undefined,
            data: f.file ? f.data : new Uint8Array(Buffer.from(f.text.replace(/\r\n|\r|\n/g, '\r\n'))),
          }));
          assert.deepEqual(plain(parseMultipart(body, contentType, WIDE), body), expected(want));
        },
      ),
      { seed: 42, numRuns: 150 },
    );
  });

  test('robustness: mutated bodies (cuts, flips, inserted framing) parse or are refused with SKIFF_BAD_REQUEST', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat(),
        text: fc.constantFrom(
          '\r\n',
          '--',
          '\r\n\r\n',
          '\n',
          '"',
          ';',
          ': ',
          '\\',
          '\r\n--BOUNDARY',
          '\r\n--BOUNDARY--',
        ),
      }),
      fc.record({
        kind: fc.constant('delete' as const),
        at: fc.nat(),
        length: fc.integer({ min: 1, max: 40 }),
      }),
      fc.record({
        kind: fc.constant('repeat' as const),
        at: fc.nat(),
        length: fc.integer({ min: 1, max: 400 }),
      }),
    );
    fc.assert(
      fc.property(formArbitrary, fc.array(mutation, { minLength: 1, maxLength: 6 }), (form, mutations) => {
        let body = serialize(form.boundary, form.specs, {
          preamble: form.preamble,
          ...(form.epilogue === undefined ? {} : { epilogue: form.epilogue }),
          padding: form.padding,
        });
        for (const m of mutations) {
          const at = body.length === 0 ? 0 : m.at % (body.length + 1);
          if (m.kind === 'truncate') body = body.subarray(0, at);
          else if (m.kind === 'flip') {
            body = Buffer.from(body);
            if (at < body.length) body[at] = m.byte;
          } else if (m.kind === 'insert')
            body = Buffer.concat([
              body.subarray(0, at),
              bytes(m.text.replace('BOUNDARY', form.boundary)),
              body.subarray(at),
            ]);
          else if (m.kind === 'delete')
            body = Buffer.concat([body.subarray(0, at), body.subarray(at + m.length)]);
          else body = Buffer.concat([body.subarray(0, at + m.length), body.subarray(at)]);
          if (body.length > 64 * 1024) body = body.subarray(0, 64 * 1024);
        }
        let parts: MultipartPart[];
        try {
          parts = parseMultipart(body, contentTypeOf(form.boundary, form.quoted), FORM_LIMITS);
        } catch (error) {
          assert.ok(isSkiffError(error), `not a SkiffError: ${String(error)}`);
          assert.equal(error.code, 'SKIFF_BAD_REQUEST');
          assert.match(error.message, /^malformed multipart request: /);
          return;
        }
        assert.ok(parts.length <= FORM_LIMITS.maxParts);
        plain(parts, body);
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  test('robustness: arbitrary bytes and arbitrary Content-Type headers', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 80 }),
          boundaryArbitrary.map((b) => `multipart/form-data; boundary=${b}`),
        ),
        fc.uint8Array({ maxLength: 2000 }),
        (contentType, data) => {
          try {
            parseMultipart(Buffer.from(data), contentType, FORM_LIMITS);
          } catch (error) {
            assert.ok(isSkiffError(error), `not a SkiffError: ${String(error)}`);
            assert.equal(error.code, 'SKIFF_BAD_REQUEST');
          }
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });
});
