import http2 from 'node:http2';
import type { ClientHttp2Session, ClientHttp2Stream, OutgoingHttpHeaders } from 'node:http2';
import { status as grpcStatus } from '@grpc/grpc-js';
import type { Outcome } from './step-tally.js';

export interface LeanGrpcCallerOptions {
  /** Sent with every call, e.g. `authorization`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Each call's deadline: sent as `grpc-timeout`, and enforced here too. */
  readonly timeoutMs: number;
  /** Both HTTP/2 flow-control windows this client opens to the server (it reads the answers). */
  readonly flowWindowBytes: number;
}

/**
 * Unary gRPC calls whose messages are serialized and framed once, over one HTTP/2 connection, with node:http2
 * alone: no channel, interceptors, filters, metadata objects or decoding of the answer, which is only read for
 * its status. The load generator runs on the machine it measures, and grpc-js cost it 2.4-3.8 ms of CPU per
 * 602 KB call in `npm run bench`, more than the server's own main thread spent on the call. The connection is
 * opened on the first call and again after it is lost. Calls beyond the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS wait here for a stream, as grpc-js's do: node:http2 would have them refused.
 */
export class LeanGrpcCaller {
  private session: ClientHttp2Session | undefined;
  private ready: Promise<ClientHttp2Session> | undefined;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly authority: string,
    private readonly options: LeanGrpcCallerOptions,
  ) {}

  /** One call of `path` (`/package.Service/Method`) with a framed message; how it ended, never a rejection. */
  async call(path: string, framed: Buffer): Promise<Outcome> {
    const deadline = performance.now() + this.options.timeoutMs;
    let session: ClientHttp2Session;
    try {
      session = await this.connected();
    } catch (error) {
      return noAnswer(error);
    }
    await this.stream(session);
    try {
      const left = deadline - performance.now();
      if (left <= 0) return deadlineExceeded(this.options.timeoutMs);
      return await exchange(session, path, framed, left, this.options);
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  close(): void {
    this.closed = true;
    this.session?.close();
    this.session = undefined;
    this.ready = undefined;
  }

  /** Waits for a stream the server allows (its SETTINGS came with the connection). */
  private stream(session: ClientHttp2Session): Promise<void> {
    const limit = session.remoteSettings.maxConcurrentStreams ?? Infinity;
    if (this.active < limit && this.waiting.length === 0) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.waiting.push(() => {
        this.active++;
        resolve();
      }),
    );
  }

  /** The open connection, once the server's SETTINGS have come; a new one when there is none. */
  private connected(): Promise<ClientHttp2Session> {
    if (this.closed) return Promise.reject(new Error('the client is closed'));
    const current = this.session;
    if (current !== undefined && this.ready !== undefined && !current.closed && !current.destroyed)
      return this.ready;
    const window = this.options.flowWindowBytes;
    const session = http2.connect(this.authority, { settings: { initialWindowSize: window } });
    const forget = (): void => {
      if (this.session !== session) return;
      this.session = undefined;
      this.ready = undefined;
    };
    const ready = new Promise<ClientHttp2Session>((resolve, reject) => {
      session.once('remoteSettings', () => resolve(session));
      session.once('error', reject);
      session.once('close', () => reject(new Error('the connection closed before the server spoke')));
    });
    // Errors reach the calls in flight through their streams; a lost connection is opened again next call.
    session.on('error', () => undefined);
    session.once('connect', () => session.setLocalWindowSize(window));
    session.once('close', forget);
    session.once('goaway', forget);
    this.session = session;
    this.ready = ready;
    return ready;
  }
}

/** One call on an open connection, ended by its status, its stream's end, or `timeoutMs`. */
function exchange(
  session: ClientHttp2Session,
  path: string,
  framed: Buffer,
  timeoutMs: number,
  options: LeanGrpcCallerOptions,
): Promise<Outcome> {
  let stream: ClientHttp2Stream;
  try {
    stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': `${Math.max(1, Math.ceil(timeoutMs))}m`,
      ...options.headers,
    } satisfies OutgoingHttpHeaders);
  } catch (error) {
    return Promise.resolve(noAnswer(error));
  }
  return new Promise((resolve) => {
    let httpStatus: number | undefined;
    let code: string | undefined;
    let message: string | undefined;
    let failure: unknown;
    const read = (headers: http2.IncomingHttpHeaders): void => {
      const sent = headers['grpc-status'];
      if (typeof sent === 'string') {
        code = sent;
        message = percentDecoded(headers['grpc-message']);
      }
    };
    const timer = setTimeout(() => {
      code ??= String(grpcStatus.DEADLINE_EXCEEDED);
      message ??= deadlineExceeded(options.timeoutMs).message;
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }, timeoutMs);
    // A trailers-only answer (every error grpc-js sends) carries its status with the headers.
    stream.on('response', (headers) => {
      httpStatus = headers[':status'];
      read(headers);
    });
    stream.on('trailers', read);
    stream.on('error', (error: Error) => {
      failure ??= error;
    });
    // The answer's bytes are not looked at; reading them lets the stream end.
    stream.resume();
    stream.on('close', () => {
      clearTimeout(timer);
      resolve(outcomeOf(code, message, httpStatus, failure));
    });
    stream.end(framed);
  });
}

function deadlineExceeded(timeoutMs: number): Outcome & { message: string } {
  return { ok: false, status: 'DEADLINE_EXCEEDED', message: `no answer within ${timeoutMs} ms` };
}

/** A gRPC length-prefixed message: not compressed, then its length as 4 bytes big-endian. */
export function grpcFrame(message: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(5 + message.length);
  framed[0] = 0;
  framed.writeUInt32BE(message.length, 1);
  framed.set(message, 5);
  return framed;
}

function outcomeOf(
  code: string | undefined,
  message: string | undefined,
  httpStatus: number | undefined,
  failure: unknown,
): Outcome {
  if (code === '0') return { ok: true, status: 'OK' };
  if (code !== undefined) {
    const name = statusName(Number(code));
    return { ok: false, status: name, message: message === undefined || message === '' ? name : message };
  }
  if (httpStatus !== undefined && httpStatus !== 200)
    return { ok: false, status: 0, message: `HTTP ${httpStatus} without a gRPC status` };
  return noAnswer(failure ?? new Error('the stream ended without a gRPC status'));
}

function noAnswer(error: unknown): Outcome {
  return { ok: false, status: 0, message: error instanceof Error ? error.message : String(error) };
}

/** The enum's reverse mapping has no entry for a code outside it. */
function statusName(code: number): string {
  return (grpcStatus as unknown as Record<number, string | undefined>)[code] ?? String(code);
}

/** grpc-message is percent-encoded (gRPC over HTTP/2); a malformed one is shown as sent. */
function percentDecoded(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value.join(',') : value;
  if (text === undefined) return undefined;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
