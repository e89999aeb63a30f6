import http from 'node:http';

/** One prepared request; built once before the load starts so the generator spends no time encoding. */
export interface RequestSpec {
  readonly method: 'GET' | 'POST';
  /** Path and query, appended to the client's base URL. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | number>>;
  readonly body?: Buffer;
}

export interface HttpReply {
  readonly status: number;
  readonly body: Buffer;
}

/**
 * A keep-alive HTTP/1.1 client for one origin, with at most `maxSockets` connections: a closed loop of c
 * clients holds c connections, as c real callers would. Requests time out after `timeoutMs`.
 */
export class HttpClient {
  private readonly agent: http.Agent;
  private readonly base: URL;

  constructor(
    baseUrl: string,
    maxSockets: number,
    private readonly timeoutMs: number,
    /** Sent with every request (e.g. `authorization`), under the request's own. */
    private readonly commonHeaders: Readonly<Record<string, string>> = {},
  ) {
    this.base = new URL(baseUrl);
    if (this.base.protocol !== 'http:')
      throw new Error(`only http:// URLs are supported, got ${this.base.protocol}`);
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  send(spec: RequestSpec): Promise<HttpReply> {
    const url = new URL(spec.path, this.base);
    const headers = {
      ...this.commonHeaders,
      ...spec.headers,
      ...(spec.body === undefined ? {} : { 'content-length': spec.body.length }),
    };
    return new Promise((resolve, reject) => {
      const request = http.request(url, { method: spec.method, agent: this.agent, headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
        response.on('error', reject);
      });
      request.setTimeout(this.timeoutMs, () =>
        request.destroy(new Error(`no answer in ${this.timeoutMs} ms`)),
      );
      request.on('error', reject);
      request.end(spec.body);
    });
  }

  /** GETs a JSON document; throws with the status and the server's message when it is not a 200. */
  async getJson(path: string): Promise<unknown> {
    const reply = await this.send({ method: 'GET', path, headers: { accept: 'application/json' } });
    const text = reply.body.toString('utf8');
    if (reply.status !== 200) throw new Error(`GET ${path} answered ${reply.status}: ${errorMessage(text)}`);
    return JSON.parse(text) as unknown;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The `error` field of a Skiff/OIP error body, else the first 200 characters of the body. */
export function errorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON: show the text itself
  }
  return body.slice(0, 200);
}
