import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseImageReference } from './image-reference.js';
import { MEDIA_TYPES } from './media-types.js';
import { RegistryClient } from './registry-client.js';

test('an identity token is exchanged for an access token with an OAuth2 refresh_token POST to the realm', async () => {
  // Debian's docker-registry has no token service to run, so this server plays both sides of the distribution
  // token flow: the registry's Bearer challenge and the realm's POST /token (docs.docker.com/registry/spec/auth/oauth).
  const forms: URLSearchParams[] = [];
  const server = http.createServer((request, response) => {
    if (request.method === 'POST' && request.url === '/token') {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const form = new URLSearchParams(body);
        forms.push(form);
        const ok = form.get('grant_type') === 'refresh_token' && form.get('refresh_token') === 'refresh-123';
        response.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
        response.end(JSON.stringify(ok ? { access_token: 'access-abc', expires_in: 300 } : {}));
      });
      return;
    }
    if (request.headers.authorization !== 'Bearer access-abc') {
      const { port } = server.address() as AddressInfo;
      response.writeHead(401, {
        'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="test-registry"`,
      });
      response.end();
      return;
    }
    response.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest });
    response.end(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const registry = `127.0.0.1:${port}`;
    const client = new RegistryClient({ credentials: () => ({ identityToken: 'refresh-123' }), retries: 0 });
    const manifest = await client.getManifest(parseImageReference(`${registry}/team/app:1`));
    assert.equal(manifest.mediaType, MEDIA_TYPES.ociManifest);
    assert.equal(forms.length, 1);
    assert.deepEqual(Object.fromEntries(forms[0] ?? []), {
      grant_type: 'refresh_token',
      client_id: 'skiff',
      refresh_token: 'refresh-123',
      service: 'test-registry',
      scope: 'repository:team/app:pull',
    });
    const refused = new RegistryClient({ credentials: () => ({ identityToken: 'expired' }), retries: 0 });
    await assert.rejects(refused.getManifest(parseImageReference(`${registry}/team/app:1`)), {
      code: 'SKIFF_REGISTRY_AUTH',
      message: /refused a token \(HTTP 401\)$/,
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
