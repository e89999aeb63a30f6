import { availableParallelism } from 'node:os';
import { z } from 'zod';
import type { OptionSpec } from './option-table.js';
import type { RuntimeLoadOptions } from '../core/model/runtime.js';

// Options more than one command reads from the same SKIFF_* variable and file key. Each is declared here once,
// limits and default included; a command may word its description for its own use (`{ ...ROW, description }`).

/** `--verbose` / `-v`: stack traces for errors (and, for `serve`, debug logs). */
export const VERBOSE_OPTION = {
  key: 'verbose',
  short: 'v',
  type: 'boolean',
  description: 'stack traces for errors',
  defaultLabel: 'false',
  schema: z.boolean().default(false),
} as const satisfies OptionSpec;

// `deploy` passes the next three to its pods as SKIFF_* variables, where `serve` checks them again: one schema
// means a value the deploy accepts is never one the pods refuse at start-up.

export const WORKERS_OPTION = {
  key: 'workers',
  type: 'integer',
  description: 'inference worker threads per model, each with its own copy of the weights',
  defaultLabel: '1',
  schema: z.number().int().positive().max(64).default(1),
} as const satisfies OptionSpec;

export const THREADS_PER_WORKER_OPTION = {
  key: 'threadsPerWorker',
  type: 'integer',
  description: 'intra-op threads inside each worker',
  defaultLabel: 'the number of cores',
  schema: z.number().int().positive().max(256).default(availableParallelism()),
} as const satisfies OptionSpec;

export const MODEL_SHA256_OPTION = {
  key: 'modelSha256',
  type: 'string',
  placeholder: 'hex',
  description: 'expected sha256 of the model file; a download or file that does not match is refused',
  defaultLabel: 'none (zoo models carry their own)',
  schema: z
    .string()
    .regex(/^[0-9a-f]{64}$/i, 'must be 64 hex digits')
    .optional(),
} as const satisfies OptionSpec;

/** Skiff's one cache folder: `serve` keeps downloaded models in it, `build` image layers. */
export const CACHE_DIR_OPTION = {
  key: 'cacheDir',
  type: 'string',
  placeholder: 'dir',
  description: 'where downloaded models are kept',
  defaultLabel: '$XDG_CACHE_HOME/skiff or ~/.cache/skiff',
  schema: z.string().min(1).optional(),
} as const satisfies OptionSpec;

/** The Skiff image `run-image` runs and `deploy` deploys; `skiff build` tags what it builds so by default. */
export const IMAGE_OPTION = {
  key: 'image',
  type: 'string',
  placeholder: 'ref',
  description: 'the image to run (from skiff build, the Containerfile, or a registry)',
  defaultLabel: 'skiff:latest',
  schema: z.string().min(1).default('skiff:latest'),
} as const satisfies OptionSpec;

/** What the runtime is asked for when it loads a model: built here once, for serve's preload and the server. */
export function runtimeLoadOptions(config: {
  readonly workers: number;
  readonly threadsPerWorker: number;
}): RuntimeLoadOptions {
  return { workers: config.workers, threadsPerWorker: config.threadsPerWorker };
}
