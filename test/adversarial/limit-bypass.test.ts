// Limits that a request can walk around: a multipart body whose bulk lies outside its parts, responses
// never read, a URL or headers beyond what the parser takes. Each must end in Skiff's own JSON refusal, with
// the server reading no more than its body limit and holding no more than its memory budget.
import { test } from 'node:test';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertHarmless } from './expectations.js';
import { MODEL, photo } from './inference-payloads.js';
import { requestHead, sendStreamed } from './raw-http.js';
import { runAttack } from './run-attack.js';
import type { LogRecord } from './skiff-process.js';

const MIB = 2 ** 20;
const BODY_LIMIT = 20 * MIB;
/** Loopback socket buffers on both sides can hold a few MiB that the server never read. */
const IN_FLIGHT_SLACK = 16 * MIB;
const JUNK_MIB = 200;
const BOUNDARY = 'skiffattackboundary';
/** --max-pipelined-requests' default (docs/config.md). */
const DEFAULT_MAX_PIPELINED = 8;

function chunked(data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
}

/** A multipart body with the image as its only part and `JUNK_MIB` of text before or after the parts. */
function* multipartWithJunk(where: 'preamble' | 'epilogue'): Generator<Buffer> {
  const junk = chunked(Buffer.alloc(MIB, 'a'));
  const part = chunked(
    Buffer.concat([
      Buffer.from(
        `\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
      ),
      photo(),
      Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
    ]),
  );
  if (where === 'epilogue') yield part;
  for (let i = 0; i < JUNK_MIB; i++) yield junk;
  if (where === 'preamble') yield part;
  yield Buffer.from('0\r\n\r\n');
}

for (const where of ['preamble', 'epilogue'] as const) {
  test(`multipart /predict with a ${JUNK_MIB} MB ${where}, chunked`, { timeout: 120_000 }, async (t) => {
    let sent = 0;
    const report = await runAttack(t, {
      name: `multipart ${where} of ${JUNK_MIB} MiB`,
      timeLimitMs: 60_000,
      attack: async ({ server, note }) => {
        const answer = await sendStreamed(server.url, {
          head: requestHead('POST', '/predict', {
            'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`,
            'Transfer-Encoding': 'chunked',
          }),
          body: multipartWithJunk(where),
          timeoutMs: 45_000,
        });
        sent = answer.sentBytes;
        note('sentMiB', (sent / MIB).toFixed(0));
        return [answer];
      },
    });
    assertHarmless(report, {}, [
      sent > BODY_LIMIT + IN_FLIGHT_SLACK &&
        `the server read ${(sent / MIB).toFixed(0)} MiB before answering (body limit ${BODY_LIMIT / MIB} MiB)`,
    ]);
  });
}

/** Holds a connection with `count` requests written on it and never reads a byte of the answers. */
async function pipelineUnread(url: string, request: Buffer, count: number, holdMs: number): Promise<void> {
  const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.pause();
  socket.write(Buffer.concat(Array<Buffer>(count).fill(request)));
  await sleep(holdMs);
  socket.destroy();
}

const PIPELINED: readonly {
  name: string;
  count: number;
  make: () => Buffer;
  /** Picks the pipelined requests out of the server's access log (legitimate traffic is there too). */
  logged: (record: LogRecord) => boolean;
}[] = [
  {
    name: 'GET /openapi.json (10 KB answers)',
    count: 20_000,
    make: () => requestHead('GET', '/openapi.json', {}),
    logged: (record) => record.path === '/openapi.json',
  },
  {
    name: `GET /v2/models/${MODEL}`,
    count: 20_000,
    make: () => requestHead('GET', `/v2/models/${MODEL}`, {}),
    logged: (record) => record.path === `/v2/models/${MODEL}`,
  },
  {
    name: 'POST /predict with a photo',
    count: 300,
    make: () => {
      const image = photo('samoyed_128.png');
      return Buffer.concat([
        requestHead('POST', '/predict', {
          'Content-Type': 'image/png',
          'Content-Length': String(image.length),
        }),
        image,
      ]);
    },
    logged: (record) => record.path === '/predict' && record.requestBytes === photo('samoyed_128.png').length,
  },
];

for (const pipelined of PIPELINED) {
  test(
    `${pipelined.count} pipelined ${pipelined.name} on one socket, answers never read`,
    { timeout: 90_000 },
    async (t) => {
      const request = pipelined.make();
      let handled = 0;
      const report = await runAttack(t, {
        name: `${pipelined.count} pipelined ${pipelined.name}, unread`,
        attack: async ({ server, note }) => {
          await pipelineUnread(server.url, request, pipelined.count, 5000);
          handled = server.records().filter((r) => r.msg === 'request' && pipelined.logged(r)).length;
          note('requestsTheServerHandled', handled);
          return [];
        },
      });
      // Past the limit only the one refused request reaches the routes; the rest are dropped unrouted.
      assertHarmless(report, { everyRequestAnswered: false }, [
        handled > DEFAULT_MAX_PIPELINED + 1 &&
          `${handled} of the pipelined requests were routed (limit ${DEFAULT_MAX_PIPELINED} unanswered, then one 503)`,
      ]);
    },
  );
}

const OVERSIZED: readonly { name: string; head: () => Buffer; statuses: readonly string[] }[] = [
  {
    name: 'a 20 KB URL',
    head: () => requestHead('GET', `/v2/models/${'m'.repeat(20_000)}/ready`, {}),
    statuses: ['414', '431'],
  },
  {
    name: 'a 20 KB query string on /predict',
    head: () => requestHead('POST', `/predict?top_k=5&pad=${'p'.repeat(20_000)}`, { 'Content-Length': '0' }),
    statuses: ['414', '431'],
  },
  {
    name: 'one 20 KB header',
    head: () => requestHead('GET', '/v2/health/ready', { 'X-Big': 'h'.repeat(20_000) }),
    statuses: ['431'],
  },
  {
    name: '3000 small headers',
    head: () =>
      requestHead(
        'GET',
        '/v2/health/ready',
        Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`X-H${i}`, 'v'])),
      ),
    statuses: ['431'],
  },
];

test(
  'oversized URLs and headers get Skiff JSON 414/431, not a framework body',
  { timeout: 60_000 },
  async (t) => {
    const wrong: string[] = [];
    const report = await runAttack(t, {
      name: 'oversized URL and headers',
      attack: async ({ server }) => {
        const answers = [];
        for (const oversized of OVERSIZED) {
          const answer = await sendStreamed(server.url, {
            head: oversized.head(),
            body: [],
            timeoutMs: 10_000,
          });
          if (!oversized.statuses.includes(answer.code))
            wrong.push(
              `${oversized.name}: ${answer.code} (want ${oversized.statuses.join(' or ')}) ${answer.text.slice(0, 100)}`,
            );
          answers.push(answer);
        }
        return answers;
      },
    });
    assertHarmless(report, {}, wrong);
  },
);
