import { z } from 'zod';
import type { ConfigOf, OptionSpec } from './option-table.js';

/** Every `skiff models` option. */
export const MODELS_OPTIONS = [
  {
    key: 'modelRepository',
    type: 'string',
    placeholder: 'dir',
    description: 'the model repository to list (<dir>/<name>/[<version>/]model.onnx + model.json)',
    defaultLabel: 'required',
    schema: z.string().min(1, 'is required'),
  },
  {
    key: 'json',
    type: 'boolean',
    description: 'print JSON instead of a table',
    defaultLabel: 'false',
    schema: z.boolean().default(false),
  },
] as const satisfies readonly OptionSpec[];

export type ModelsConfig = ConfigOf<typeof MODELS_OPTIONS>;
