import { setTimeout as sleep } from 'node:timers/promises';
import { SkiffError } from '../../core/errors.js';
import type { RegistryCredentials } from './docker-credentials.js';
import { apiHost, isLoopback } from './image-reference.js';
import type { Challenge } from './registry-challenge.js';
import { parseChallenge } from './registry-challenge.js';
import { registryAuthorization } from './registry-authorization.js';
import { causeText, registryFailure } from './registry-failure.js';

export interface RegistryTransportOptions {
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
}

/**
 * The HTTP side of RegistryClient: answers Bearer-token and Basic auth challenges and retries transient
 * failures with backoff. Serves concurrent calls; tokens are cached per registry and scope.
 */
export class RegistryTransport {
  private readonly options: RegistryTransportOptions;
  private readonly tokens = new Map<string, string>();

  constructor(options: RegistryTransportOptions) {
    this.options = options;
  }

  private base(registry: string): string {
    const scheme = this.options.insecure === true || isLoopback(registry) ? 'http' : 'https';
    return `${scheme}://${apiHost(registry)}`;
  }

  /** The absolute URL of an upload session from a response's Location header. */
  location(registry: string, response: Response): string {
    const location = response.headers.get('location');
    if (location === null) throw new SkiffError('SKIFF_REGISTRY_FAILED', 'upload response has no Location');
    return new URL(location, this.base(registry)).toString();
  }

  /** One API call with auth and retries; `url` is a path on the registry or an absolute upload location. */
  async request(
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
        if (challenge === undefined) throw await registryFailure(response, `${call.method} ${url}`);
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
        throw await registryFailure(response, `${call.method} ${url}`);
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
    return registryAuthorization(registry, scopes, challenge, credentials);
  }
}
