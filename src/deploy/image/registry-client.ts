import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { setTimeout as sleep } from 'node:timers/promises';
import { SkiffError } from '../../core/errors.js';
import type { BlobStore } from './blob-store.js';
import { sha256Digest } from './blob-store.js';
import type { RegistryCredentials } from './docker-credentials.js';
import type { ImageReference } from './image-reference.js';
import { apiHost, isLoopback, referenceOf } from './image-reference.js';
import type { Descriptor } from './media-types.js';
import { MANIFEST_ACCEPT } from './media-types.js';

export interface RegistryClientOptions {
  /**
   * Credentials for a registry host (from flags, ~/.docker/config.json or a credential helper); undefined means
   * anonymous. Asked only when the registry challenges, once per registry and scope.
   */
  readonly credentials?: (
    registry: string,
  ) => RegistryCredentials | undefined | Promise<RegistryCredentials | undefined>;
  /** Plain HTTP for every registry, not just loopback ones. */
  readonly insecure?: boolean;
  /** Attempts per request after the first, on network errors, 429 and 5xx. */
  readonly retries?: number;
  readonly retryDelayMs?: number;
  /** Blobs larger than this are uploaded in PATCH chunks of this size; smaller ones in one PUT. */
  readonly chunkBytes?: number;
}

export interface FetchedManifest {
  readonly mediaType: string;
  readonly bytes: Buffer;
  readonly digest: string;
}

/** How a blob reached the target repository. */
export type PushOutcome = 'present' | 'mounted' | 'uploaded';

interface Challenge {
  readonly scheme: 'bearer' | 'basic';
  readonly params: Readonly<Record<string, string>>;
}

/**
 * A client for the OCI distribution API (v2): manifests, blobs, uploads, mounts. Handles Bearer-token and
 * Basic auth challenges, retries transient failures with backoff, and verifies every downloaded digest.
 * One instance may serve concurrent calls; tokens are cached per registry and scope.
 */
export class RegistryClient {
  private readonly options: RegistryClientOptions;
  private readonly tokens = new Map<string, string>();

  constructor(options: RegistryClientOptions = {}) {
    this.options = options;
  }

  private base(registry: string): string {
    const scheme = this.options.insecure === true || isLoopback(registry) ? 'http' : 'https';
    return `${scheme}://${apiHost(registry)}`;
  }

  /** Fetches a manifest or index by tag or digest, checking the digest when one was asked for. */
  async getManifest(ref: ImageReference, reference = referenceOf(ref)): Promise<FetchedManifest> {
    const response = await this.request(ref.registry, [`repository:${ref.repository}:pull`], {
      method: 'GET',
      url: `/v2/${ref.repository}/manifests/${reference}`,
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (response.status === 404) {
      await response.body?.cancel();
      throw new SkiffError(
        'SKIFF_IMAGE_NOT_FOUND',
        `${ref.registry}/${ref.repository}:${reference} does not exist in the registry`,
      );
    }
    await expectStatus(response, [200], `GET manifest ${ref.repository}:${reference}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    const digest = sha256Digest(bytes);
    if (reference.startsWith('sha256:') && reference !== digest)
      throw new SkiffError('SKIFF_IMAGE_INVALID', `manifest ${reference} arrived with digest ${digest}`);
    const mediaType =
      (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType ??
      response.headers.get('content-type')?.split(';')[0] ??
      '';
    return { mediaType, bytes, digest };
  }

  /** Downloads a blob into the store (skipped when the store has it), verifying size and digest as it streams. */
  async fetchBlob(
    registry: string,
    repository: string,
    descriptor: Descriptor,
    store: BlobStore,
    onBytes: (count: number) => void = () => undefined,
  ): Promise<void> {
    if (store.has(descriptor.digest)) {
      onBytes(descriptor.size);
      return;
    }
    const response = await this.request(registry, [`repository:${repository}:pull`], {
      method: 'GET',
      url: `/v2/${repository}/blobs/${descriptor.digest}`,
    });
    await expectStatus(response, [200], `GET blob ${descriptor.digest}`);
    if (response.body === null) throw new SkiffError('SKIFF_REGISTRY_FAILED', 'blob response has no body');
    const hash = createHash('sha256');
    let size = 0;
    const temp = await store.tempPath();
    try {
      await pipeline(
        Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            hash.update(chunk);
            size += chunk.length;
            onBytes(chunk.length);
            callback(null, chunk);
          },
        }),
        createWriteStream(temp),
      );
      const digest = `sha256:${hash.digest('hex')}`;
      if (digest !== descriptor.digest || size !== descriptor.size)
        throw new SkiffError(
          'SKIFF_IMAGE_INVALID',
          `blob ${descriptor.digest} from ${registry}/${repository} arrived as ${digest} (${size} bytes)`,
        );
      await store.adopt(temp, digest);
    } finally {
      await rm(temp, { force: true });
    }
  }

  async hasBlob(registry: string, repository: string, digest: string): Promise<boolean> {
    const response = await this.request(registry, [`repository:${repository}:pull,push`], {
      method: 'HEAD',
      url: `/v2/${repository}/blobs/${digest}`,
    });
    await response.body?.cancel();
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw await failure(response, `HEAD blob ${digest}`);
  }

  /**
   * Makes a blob exist in `repository`: nothing if it is there, a cross-repository mount from one of `mountFrom`
   * (repositories on the same registry) when the registry agrees, else an upload from the store: one PUT, or PATCH chunks for big blobs.
   */
  async pushBlob(
    registry: string,
    repository: string,
    descriptor: Descriptor,
    store: BlobStore,
    mountFrom: readonly string[] = [],
    onBytes: (count: number) => void = () => undefined,
  ): Promise<PushOutcome> {
    if (await this.hasBlob(registry, repository, descriptor.digest)) {
      onBytes(descriptor.size);
      return 'present';
    }
    const sources = mountFrom.filter((source) => source !== repository);
    const scopes = [
      `repository:${repository}:pull,push`,
      ...sources.map((source) => `repository:${source}:pull`),
    ];
    let started: Response | undefined;
    const attempts: (string | undefined)[] = sources.length > 0 ? sources : [undefined];
    for (const [index, source] of attempts.entries()) {
      const query =
        source === undefined
          ? ''
          : `?mount=${encodeURIComponent(descriptor.digest)}&from=${encodeURIComponent(source)}`;
      started = await this.request(registry, scopes, {
        method: 'POST',
        url: `/v2/${repository}/blobs/uploads/${query}`,
      });
      await started.body?.cancel();
      if (started.status === 201) {
        onBytes(descriptor.size);
        return 'mounted';
      }
      if (started.status !== 202) throw await failure(started, `start upload of ${descriptor.digest}`);
      // A refused mount still opens an upload session: the last one is used, earlier ones expire on the registry.
      if (index === attempts.length - 1) break;
    }
    if (started === undefined) throw new SkiffError('SKIFF_REGISTRY_FAILED', 'no upload session');
    let location = this.location(registry, started);
    const chunkBytes = this.options.chunkBytes ?? 32 * 1024 * 1024;
    const file = await open(store.pathOf(descriptor.digest), 'r');
    try {
      if (descriptor.size > chunkBytes) {
        for (let offset = 0; offset < descriptor.size; offset += chunkBytes) {
          const length = Math.min(chunkBytes, descriptor.size - offset);
          const chunk = Buffer.alloc(length);
          await file.read(chunk, 0, length, offset);
          const patched = await this.request(registry, scopes, {
            method: 'PATCH',
            url: location,
            headers: {
              'content-type': 'application/octet-stream',
              'content-range': `${offset}-${offset + length - 1}`,
              'content-length': String(length),
            },
            body: chunk,
          });
          await patched.body?.cancel();
          if (patched.status !== 202) throw await failure(patched, `upload chunk of ${descriptor.digest}`);
          location = this.location(registry, patched);
          onBytes(length);
        }
        const done = await this.request(registry, scopes, {
          method: 'PUT',
          url: withDigest(location, descriptor.digest),
          headers: { 'content-length': '0' },
        });
        await expectStatus(done, [201], `finish upload of ${descriptor.digest}`);
      } else {
        const body = Buffer.alloc(descriptor.size);
        await file.read(body, 0, descriptor.size, 0);
        const done = await this.request(registry, scopes, {
          method: 'PUT',
          url: withDigest(location, descriptor.digest),
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(descriptor.size) },
          body,
        });
        await expectStatus(done, [201], `upload ${descriptor.digest}`);
        onBytes(descriptor.size);
      }
    } finally {
      await file.close();
    }
    return 'uploaded';
  }

  /** PUTs a manifest or index under a tag (or its digest); returns the digest the registry stored. */
  async putManifest(
    registry: string,
    repository: string,
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
  ): Promise<string> {
    const response = await this.request(registry, [`repository:${repository}:pull,push`], {
      method: 'PUT',
      url: `/v2/${repository}/manifests/${reference}`,
      headers: { 'content-type': mediaType },
      body: Buffer.from(bytes),
    });
    await expectStatus(response, [201], `PUT manifest ${repository}:${reference}`);
    return response.headers.get('docker-content-digest') ?? sha256Digest(bytes);
  }

  private location(registry: string, response: Response): string {
    const location = response.headers.get('location');
    if (location === null) throw new SkiffError('SKIFF_REGISTRY_FAILED', 'upload response has no Location');
    return new URL(location, this.base(registry)).toString();
  }

  /** One API call with auth and retries; `url` is a path on the registry or an absolute upload location. */
  private async request(
    registry: string,
    scopes: readonly string[],
    call: { method: string; url: string; headers?: Record<string, string>; body?: Buffer },
  ): Promise<Response> {
    const url = new URL(call.url, this.base(registry)).toString();
    const retries = this.options.retries ?? 3;
    const scopeKey = `${registry} ${scopes.join(' ')}`;
    let authRetried = false;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...call.headers };
      const token = this.tokens.get(scopeKey);
      if (token !== undefined) headers.authorization = token;
      let response: Response;
      try {
        response = await fetch(url, {
          method: call.method,
          headers,
          ...(call.body === undefined ? {} : { body: call.body }),
          redirect: 'follow',
        });
      } catch (error) {
        if (attempt < retries) {
          await sleep(this.backoff(attempt));
          continue;
        }
        throw new SkiffError(
          'SKIFF_REGISTRY_FAILED',
          `${call.method} ${url}: ${causeText(error)}${
            isLoopback(registry) || this.options.insecure === true
              ? ''
              : ' (for a plain-HTTP registry use --insecure)'
          }`,
          { cause: error },
        );
      }
      if (response.status === 401 && !authRetried) {
        const challenge = parseChallenge(response.headers.get('www-authenticate'));
        await response.body?.cancel();
        if (challenge === undefined) throw await failure(response, `${call.method} ${url}`);
        this.tokens.set(scopeKey, await this.authorize(registry, scopes, challenge));
        authRetried = true;
        attempt--;
        continue;
      }
      if ((response.status === 429 || response.status >= 500) && attempt < retries) {
        await response.body?.cancel();
        await sleep(this.backoff(attempt));
        continue;
      }
      if (response.status === 401 || response.status === 403)
        throw await failure(response, `${call.method} ${url}`);
      return response;
    }
  }

  private backoff(attempt: number): number {
    return (this.options.retryDelayMs ?? 500) * 2 ** attempt;
  }

  private async authorize(
    registry: string,
    scopes: readonly string[],
    challenge: Challenge,
  ): Promise<string> {
    const credentials = await this.options.credentials?.(registry);
    const identityToken =
      credentials !== undefined && 'identityToken' in credentials ? credentials.identityToken : undefined;
    const basic =
      credentials === undefined || !('username' in credentials)
        ? undefined
        : `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    if (challenge.scheme === 'basic') {
      if (basic === undefined)
        throw new SkiffError(
          'SKIFF_REGISTRY_AUTH',
          identityToken === undefined
            ? `${registry} wants a user name and password: run "docker login ${registry}" or pass --registry-username/--registry-password`
            : `${registry} wants a user name and password, but the stored login is an identity token: pass --registry-username/--registry-password`,
        );
      return basic;
    }
    const realm = challenge.params.realm;
    if (realm === undefined)
      throw new SkiffError('SKIFF_REGISTRY_AUTH', `${registry} sent a Bearer challenge without a realm`);
    const tokenUrl = new URL(realm);
    let request: RequestInit;
    if (identityToken === undefined) {
      if (challenge.params.service !== undefined)
        tokenUrl.searchParams.set('service', challenge.params.service);
      for (const scope of scopes) tokenUrl.searchParams.append('scope', scope);
      request = { headers: basic === undefined ? {} : { authorization: basic } };
    } else {
      // An identity token is an OAuth2 refresh token: exchanged with a POST to the same realm (the distribution
      // spec's "OAuth2 token" flow, what docker does).
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: 'skiff',
        refresh_token: identityToken,
      });
      if (challenge.params.service !== undefined) form.set('service', challenge.params.service);
      if (scopes.length > 0) form.set('scope', scopes.join(' '));
      request = {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      };
    }
    let response: Response;
    try {
      response = await fetch(tokenUrl, request);
    } catch (error) {
      throw new SkiffError(
        'SKIFF_REGISTRY_AUTH',
        `token request to ${tokenUrl.origin}: ${causeText(error)}`,
        {
          cause: error,
        },
      );
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new SkiffError(
        'SKIFF_REGISTRY_AUTH',
        `${registry} refused a token (HTTP ${response.status})${
          credentials === undefined
            ? ': log in with "docker login" or pass --registry-username/--registry-password'
            : ''
        }`,
      );
    }
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (token === undefined)
      throw new SkiffError('SKIFF_REGISTRY_AUTH', `${registry} sent a token response without a token`);
    return `Bearer ${token}`;
  }
}

function withDigest(location: string, digest: string): string {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url.toString();
}

/** Parses `Bearer realm="...",service="...",scope="..."` or `Basic realm="..."`. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (header === null) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (match === null) return undefined;
  const scheme = match[1]?.toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'basic') return undefined;
  const params: Record<string, string> = {};
  for (const pair of (match[2] ?? '').matchAll(/(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))/g)) {
    const key = pair[1];
    if (key !== undefined) params[key.toLowerCase()] = pair[2] ?? pair[3] ?? '';
  }
  return { scheme, params };
}

async function expectStatus(response: Response, ok: readonly number[], what: string): Promise<void> {
  if (ok.includes(response.status)) return;
  throw await failure(response, what);
}

async function failure(response: Response, what: string): Promise<SkiffError> {
  const text = (await response.text().catch(() => '')).slice(0, 300).trim();
  const code =
    response.status === 401 || response.status === 403 ? 'SKIFF_REGISTRY_AUTH' : 'SKIFF_REGISTRY_FAILED';
  return new SkiffError(code, `${what}: HTTP ${response.status}${text === '' ? '' : ` ${text}`}`);
}

function causeText(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
