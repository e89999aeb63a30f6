import { z } from 'zod';
import type { ConfigOf, OptionSpec } from './option-table.js';

/** Registry access options shared by `skiff build --push` and `skiff push`. */
export const REGISTRY_OPTIONS = [
  {
    key: 'registryUsername',
    type: 'string',
    placeholder: 'user',
    description: 'user name for the registry pushed to (instead of its entry in ~/.docker/config.json)',
    defaultLabel: 'from ~/.docker/config.json or $REGISTRY_AUTH_FILE',
    schema: z.string().min(1).optional(),
  },
  {
    key: 'registryPassword',
    type: 'string',
    placeholder: 'secret',
    description: 'registry password or token; prefer the environment variable to the flag',
    defaultLabel: 'from ~/.docker/config.json or $REGISTRY_AUTH_FILE',
    schema: z.string().min(1).optional(),
  },
  {
    key: 'insecure',
    type: 'boolean',
    description: 'talk plain HTTP to the registries (127.0.0.1 and localhost always use it)',
    defaultLabel: 'false',
    schema: z.boolean().default(false),
  },
] as const satisfies readonly OptionSpec[];

export type RegistryAccessConfig = ConfigOf<typeof REGISTRY_OPTIONS>;
