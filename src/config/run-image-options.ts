import { z } from 'zod';
import type { ConfigOf, OptionSpec } from './option-table.js';
import { IMAGE_OPTION, VERBOSE_OPTION } from './shared-options.js';

/** Every `skiff run-image` option, in the order --help lists them. */
export const RUN_IMAGE_OPTIONS = [
  { ...IMAGE_OPTION, short: 'i' },
  {
    key: 'engine',
    type: 'string',
    placeholder: 'podman|docker',
    description: 'the container engine that runs it',
    defaultLabel: 'podman if installed, else docker',
    schema: z.enum(['podman', 'docker']).optional(),
  },
  {
    key: 'port',
    short: 'p',
    type: 'integer',
    description: "host port published to the server's port 5000 in the container",
    defaultLabel: '5000',
    schema: z.number().int().min(1).max(65535).default(5000),
  },
  {
    // Not "host": SKIFF_HOST is the address `skiff serve` listens on (0.0.0.0), which must not widen this.
    key: 'publishAddress',
    type: 'string',
    placeholder: 'address',
    description: 'host address the port is published on (0.0.0.0 for every interface)',
    defaultLabel: '127.0.0.1',
    schema: z.string().min(1).default('127.0.0.1'),
  },
  {
    key: 'model',
    type: 'string',
    placeholder: 'path|url|name',
    description:
      "a local model file or directory is mounted read-only and served; a URL or zoo name is fetched at start; none serves the image's own model",
    defaultLabel: 'the model the image was built with',
    schema: z.string().min(1).optional(),
  },
  {
    key: 'labels',
    type: 'string',
    placeholder: 'file',
    description: 'labels file, mounted read-only beside a local --model',
    defaultLabel: 'none',
    schema: z.string().min(1).optional(),
  },
  {
    // Not "name": SKIFF_NAME is the model's name for `skiff serve`.
    key: 'containerName',
    type: 'string',
    placeholder: 'name',
    description: 'container name (for <engine> stop/logs)',
    defaultLabel: "the engine's generated name",
    schema: z.string().min(1).optional(),
  },
  {
    key: 'detach',
    short: 'd',
    type: 'boolean',
    description:
      'start in the background and return; the container is kept after it stops (for logs and exit code)',
    defaultLabel: 'false (in the foreground; removed when it exits)',
    schema: z.boolean().default(false),
  },
  VERBOSE_OPTION,
] as const satisfies readonly OptionSpec[];

export type RunImageConfig = ConfigOf<typeof RUN_IMAGE_OPTIONS>;
