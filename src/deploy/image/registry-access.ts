import type { RegistryAccessConfig } from '../../config/registry-options.js';
import { authFiles, lookUpCredentials } from './docker-credentials.js';
import { RegistryClient } from './registry-client.js';

/**
 * A registry client for the CLI: --registry-username/--registry-password apply to the registry being pushed to
 * (so they never leak to the base image's registry); every other registry, and that one without the flags,
 * uses its entry in the docker/podman auth files or the credential helper they name.
 */
export function registryClientFor(
  config: RegistryAccessConfig,
  env: Readonly<Record<string, string | undefined>>,
  targetRegistry: string,
): RegistryClient {
  const { registryUsername: username, registryPassword: password } = config;
  const files = authFiles(env);
  return new RegistryClient({
    insecure: config.insecure,
    credentials: (registry) =>
      registry === targetRegistry && username !== undefined && password !== undefined
        ? { username, password }
        : lookUpCredentials(registry, files, env),
  });
}
