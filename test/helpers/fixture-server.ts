// Test support: a real HTTP server on 127.0.0.1 serving files a test names, with failure modes.
import { createReadStream, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the server answers one path. */
export type FixtureRoute =
  | { readonly file: string; readonly basicAuth?: string }
  /** Sends the headers for the whole file, half the body, then destroys the socket. */
  | { readonly truncate: string }
  /** Sends the headers for the whole file and half the body, then stalls until the client gives up. */
  | { readonly stall: string }
  | { readonly redirect: string }
  | { readonly status: number };

export interface FixtureServer {
  /** `http://127.0.0.1:<port>` without a trailing slash. */
  readonly url: string;
  readonly routes: Map<string, FixtureRoute>;
  /** Paths requested, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

/** Starts a server on an ephemeral port; unknown paths answer 404. Close it in the test's `after`. */
export async function startFixtureServer(
  routes: Readonly<Record<string, FixtureRoute>> = {},
): Promise<FixtureServer> {
  const table = new Map<string, FixtureRoute>(Object.entries(routes));
  const requests: string[] = [];
  const server = http.createServer((request, response) => {
    const requestPath = new URL(request.url ?? '/', 'http://fixture').pathname;
    requests.push(requestPath);
    const route = table.get(requestPath);
    void answer(route, request, response).catch((error: unknown) => {
      // A fixture file that cannot be read is a broken test, not a network failure: say so in the answer.
      if (response.headersSent) response.destroy(error instanceof Error ? error : undefined);
      else
        response.writeHead(500, { 'content-type': 'text/plain' }).end(`fixture server: ${String(error)}\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    routes: table,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        // fetch keeps connections alive; without this, close() would wait for them to time out.
        server.closeAllConnections();
      }),
  };
}

async function answer(
  route: FixtureRoute | undefined,
  request: http.IncomingMessage,
  response: http.ServerResponse,
): Promise<void> {
  if (route === undefined) {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  } else if ('status' in route) {
    response.writeHead(route.status, { 'content-type': 'text/plain' }).end(`status ${route.status}\n`);
  } else if ('redirect' in route) {
    response.writeHead(302, { location: route.redirect }).end();
  } else if ('file' in route) {
    const expected =
      route.basicAuth === undefined ? undefined : `Basic ${Buffer.from(route.basicAuth).toString('base64')}`;
    if (expected !== undefined && request.headers.authorization !== expected) {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="fixture"' }).end();
      return;
    }
    const { size } = await stat(route.file);
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    createReadStream(route.file).pipe(response);
  } else {
    const filePath = 'truncate' in route ? route.truncate : route.stall;
    const body = readFileSync(filePath);
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    response.write(body.subarray(0, Math.floor(body.length / 2)), () => {
      if ('truncate' in route) response.socket?.destroy();
    });
  }
}
