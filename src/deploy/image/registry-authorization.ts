import { SkiffError } from '../../core/errors.js';
import type { RegistryCredentials } from './docker-credentials.js';
import type { Challenge } from './registry-challenge.js';
import { causeText } from './registry-failure.js';

/**
 * Answers a registry's auth challenge with the value of an Authorization header: Basic credentials as they are,
 * or a Bearer token fetched from the challenge's realm for `scopes`. Throws SKIFF_REGISTRY_AUTH when the
 * credentials do not fit the challenge or the realm refuses them.
 */
export async function registryAuthorization(
  registry: string,
  scopes: readonly string[],
  challenge: Challenge,
  credentials: RegistryCredentials | undefined,
): Promise<string> {
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
    throw new SkiffError('SKIFF_REGISTRY_AUTH', `token request to ${tokenUrl.origin}: ${causeText(error)}`, {
      cause: error,
    });
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
