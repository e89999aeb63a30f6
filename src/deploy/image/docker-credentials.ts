import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SkiffError } from '../../core/errors.js';

export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

interface AuthFile {
  readonly auths?: Record<
    string,
    { auth?: string; username?: string; password?: string; identitytoken?: string }
  >;
}

/**
 * The auth files `docker login` and `podman login` write: $REGISTRY_AUTH_FILE, then $DOCKER_CONFIG/config.json
 * or ~/.docker/config.json. Only inline `auths` entries are read; credential helpers (credsStore) are not run.
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

/** Finds credentials for a registry host in the auth files; undefined when none is stored. */
export function lookUpCredentials(
  registry: string,
  files: readonly string[],
): RegistryCredentials | undefined {
  const keys =
    registry === 'docker.io'
      ? ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io']
      : [
          registry,
          `https://${registry}`,
          `http://${registry}`,
          `https://${registry}/v1/`,
          `https://${registry}/v2/`,
        ];
  for (const file of files) {
    if (!existsSync(file)) continue;
    let parsed: AuthFile;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as AuthFile;
    } catch (error) {
      throw new SkiffError('SKIFF_CONFIG_UNREADABLE', `${file} is not valid JSON`, { cause: error });
    }
    for (const key of keys) {
      const entry = parsed.auths?.[key];
      if (entry === undefined) continue;
      if (entry.username !== undefined && entry.password !== undefined)
        return { username: entry.username, password: entry.password };
      if (entry.auth !== undefined) {
        const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
      }
    }
  }
  return undefined;
}
