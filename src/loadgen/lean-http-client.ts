import net from 'node:net';
import type { HttpReply, RequestSpec } from './http-client.js';

/**
 * A keep-alive HTTP/1.1 client that costs its machine as little as it can: each request's bytes are encoded
 * once and written with one call, and an answer is read by its Content-Length (or to the connection's end)
 * without Node's HTTP parser, agent or streams. The load generator runs on the machine it measures, and
 * http.request spent 0.5 to 0.9 ms of CPU per request there, taken from the server's cores. At most
 * `maxSockets` connections, reused in turn; chunked answers are refused (the servers it loads send lengths).
 */
export class LeanHttpClient {
  private readonly idle: Connection[] = [];
  private readonly waiting: ((connection: Connection) => void)[] = [];
  private readonly encoded = new WeakMap<RequestSpec, Buffer>();
  private readonly host: string;
  private readonly port: number;
  private open = 0;
  private closed = false;

  constructor(
    baseUrl: string,
    private readonly maxSockets: number,
    private readonly timeoutMs: number,
  ) {
    const url = new URL(baseUrl);
    if (url.protocol !== 'http:') throw new Error(`only http:// URLs are supported, got ${url.protocol}`);
    this.host = url.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(url.port || 80);
  }

  async send(spec: RequestSpec): Promise<HttpReply> {
    const bytes = this.encode(spec);
    const connection = await this.acquire();
    try {
      const reply = await connection.exchange(bytes, this.timeoutMs);
      if (connection.reusable) this.release(connection);
      else this.drop(connection);
      return reply;
    } catch (error) {
      this.drop(connection);
      throw error;
    }
  }

  /** GETs a JSON document; throws with the status when it is not a 200. */
  async getJson(path: string): Promise<unknown> {
    const reply = await this.send({ method: 'GET', path, headers: { accept: 'application/json' } });
    if (reply.status !== 200) throw new Error(`GET ${path} answered ${reply.status}`);
    return JSON.parse(reply.body.toString('utf8')) as unknown;
  }

  close(): void {
    this.closed = true;
    for (const connection of this.idle.splice(0)) connection.destroy();
  }

  private encode(spec: RequestSpec): Buffer {
    let bytes = this.encoded.get(spec);
    if (bytes === undefined) {
      const lines = [`${spec.method} ${spec.path} HTTP/1.1`, `host: ${this.host}:${this.port}`];
      for (const [name, value] of Object.entries(spec.headers)) lines.push(`${name}: ${String(value)}`);
      if (spec.body !== undefined) lines.push(`content-length: ${spec.body.length}`);
      const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
      bytes = spec.body === undefined ? head : Buffer.concat([head, spec.body]);
      this.encoded.set(spec, bytes);
    }
    return bytes;
  }

  private acquire(): Promise<Connection> {
    if (this.closed) return Promise.reject(new Error('the client is closed'));
    for (let idle = this.idle.pop(); idle !== undefined; idle = this.idle.pop()) {
      // The server may have closed it while it sat idle (a keep-alive timeout).
      if (idle.reusable) return Promise.resolve(idle);
      idle.destroy();
      this.open--;
    }
    if (this.open < this.maxSockets) {
      this.open++;
      return Promise.resolve(new Connection(this.host, this.port));
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(connection: Connection): void {
    const next = this.waiting.shift();
    if (next !== undefined) next(connection);
    else if (this.closed) this.drop(connection);
    else this.idle.push(connection);
  }

  private drop(connection: Connection): void {
    connection.destroy();
    this.open--;
    const next = this.waiting.shift();
    if (next !== undefined) {
      this.open++;
      next(new Connection(this.host, this.port));
    }
  }
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** One connection, one exchange at a time. */
class Connection {
  private readonly socket: net.Socket;
  private chunks: Buffer[] = [];
  private received = 0;
  private pending:
    | { resolve: (reply: HttpReply) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }
    | undefined;
  private head: { status: number; bodyStart: number; length: number | undefined } | undefined;
  private ended = false;
  /** False once the server said it closes the connection after this answer, or closed it. */
  reusable = true;

  constructor(host: string, port: number) {
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.received += chunk.length;
      this.parse();
    });
    this.socket.on('end', () => {
      this.ended = true;
      this.reusable = false;
      this.parse();
    });
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('close', () => {
      this.reusable = false;
      this.fail(new Error('the server closed the connection before answering'));
    });
  }

  exchange(bytes: Buffer, timeoutMs: number): Promise<HttpReply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new Error(`no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending = { resolve, reject, timer };
      this.chunks = [];
      this.received = 0;
      this.head = undefined;
      this.socket.write(bytes);
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  private fail(error: Error): void {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    this.reusable = false;
    pending.reject(error);
  }

  private parse(): void {
    if (this.pending === undefined) return;
    const data = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    this.chunks = [data];
    if (this.head === undefined) {
      const end = data.indexOf(HEADER_END);
      if (end === -1) {
        if (this.ended) this.fail(new Error('the connection ended inside the answer headers'));
        return;
      }
      const text = data.toString('latin1', 0, end);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? NaN);
      if (!Number.isFinite(status)) {
        this.fail(new Error('the answer is not HTTP/1.x'));
        return;
      }
      if (/\r\ntransfer-encoding:\s*chunked/i.test(text)) {
        this.fail(new Error('chunked answers are not supported by the lean client'));
        return;
      }
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(text)?.[1];
      if (/\r\nconnection:\s*close/i.test(text) || (text.startsWith('HTTP/1.0') && !/keep-alive/i.test(text)))
        this.reusable = false;
      this.head = {
        status,
        bodyStart: end + HEADER_END.length,
        length: length === undefined ? undefined : Number(length),
      };
    }
    const { status, bodyStart, length } = this.head;
    const have = this.received - bodyStart;
    if (length !== undefined ? have < length : !this.ended) return;
    const pending = this.pending;
    this.pending = undefined;
    clearTimeout(pending.timer);
    pending.resolve({ status, body: data.subarray(bodyStart, bodyStart + (length ?? have)) });
  }
}
