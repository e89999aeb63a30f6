import { z } from 'zod';
import type { ConfigOf, OptionSpec } from './option-table.js';
import { VERBOSE_OPTION } from './shared-options.js';
import { REGISTRY_OPTIONS } from './registry-options.js';

/** Every `skiff push` option. */
export const PUSH_OPTIONS = [
  {
    key: 'from',
    type: 'string',
    placeholder: 'dir|file.tar',
    description: 'the image to push: an OCI layout directory or tar written by skiff build --output',
    defaultLabel: 'skiff-image',
    schema: z.string().min(1).default('skiff-image'),
  },
  {
    key: 'tag',
    short: 't',
    type: 'string',
    placeholder: 'ref',
    description: 'where to push, e.g. registry.example.com/team/dogs:1.0',
    defaultLabel: 'required',
    schema: z.string().min(1),
  },
  ...REGISTRY_OPTIONS,
  VERBOSE_OPTION,
] as const satisfies readonly OptionSpec[];

export type PushConfig = ConfigOf<typeof PUSH_OPTIONS>;
