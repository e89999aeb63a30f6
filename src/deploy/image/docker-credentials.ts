import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SkiffError } from '../../core/errors.js';
import { runCredentialHelper } from './credential-helper.js';

/** A user name and password (or token), or an OAuth identity token (refresh token) from `docker login`. */
export type RegistryCredentials =
  { readonly username: string; readonly password: string } | { readonly identityToken: string };

interface AuthFile {
  readonly auths?: Record<
    string,
    { auth?: string; username?: string; password?: string; identitytoken?: string }
  >;
  /** Helper for every registry: `docker-credential-<credsStore>`. */
  readonly credsStore?: string;
  /** Helper per registry host, ahead of credsStore. */
  readonly credHelpers?: Record<string, string>;
}

/**
 * The auth files `docker login` and `podman login` write: $REGISTRY_AUTH_FILE, then $DOCKER_CONFIG/config.json
 * or ~/.docker/config.json.
 */
export function authFiles(env: Readonly<Record<string, string | undefined>>): string[] {
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE !== undefined && env.REGISTRY_AUTH_FILE !== '')
    files.push(env.REGISTRY_AUTH_FILE);
  const dockerDir =
    env.DOCKER_CONFIG !== undefined && env.DOCKER_CONFIG !== ''
      ? env.DOCKER_CONFIG
      : path.join(env.HOME ?? os.homedir(), '.docker');
  files.push(path.join(dockerDir, 'config.json'));
  return files;
}

const DOCKER_HUB_KEYS = [
  'https://index.docker.io/v1/',
  'index.docker.io',
  'docker.io',
  'registry-1.docker.io',
];

/**
 * Finds credentials for a registry host in the auth files, as docker does: a `credHelpers` entry for the host,
 * else an inline `auths` entry, else the `credsStore` helper; the first file that answers wins. Helpers are
 * run with `env` (PATH finds them). Undefined when nothing is stored.
 */
export async function lookUpCredentials(
  registry: string,
  files: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<RegistryCredentials | undefined> {
  const keys =
    registry === 'docker.io'
      ? DOCKER_HUB_KEYS
      : [
          registry,
          `https://${registry}`,
          `http://${registry}`,
          `https://${registry}/v1/`,
          `https://${registry}/v2/`,
        ];
  // What docker hands a helper on stdin: the Hub's legacy URL, else the bare host.
  const server = registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
  for (const file of files) {
    if (!existsSync(file)) continue;
    let parsed: AuthFile;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as AuthFile;
    } catch (error) {
      throw new SkiffError('SKIFF_CONFIG_UNREADABLE', `${file} is not valid JSON`, { cause: error });
    }
    const helper = keys.map((key) => parsed.credHelpers?.[key]).find((name) => name !== undefined);
    if (helper !== undefined) {
      const found = await runCredentialHelper(helper, server, env);
      if (found !== undefined) return found;
      continue;
    }
    for (const key of keys) {
      const found = inlineEntry(parsed.auths?.[key]);
      if (found !== undefined) return found;
    }
    if (parsed.credsStore !== undefined && parsed.credsStore !== '') {
      const found = await runCredentialHelper(parsed.credsStore, server, env);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function inlineEntry(
  entry: NonNullable<AuthFile['auths']>[string] | undefined,
): RegistryCredentials | undefined {
  if (entry === undefined) return undefined;
  if (entry.identitytoken !== undefined && entry.identitytoken !== '')
    return { identityToken: entry.identitytoken };
  if (entry.username !== undefined && entry.password !== undefined)
    return { username: entry.username, password: entry.password };
  if (entry.auth !== undefined) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return undefined;
}
