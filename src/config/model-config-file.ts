import { z } from 'zod';
import type { ModelConfigFile } from '../core/model/model-config.js';
import type { FileCheck } from '../host/regular-file.js';
import { SkiffError } from '../core/errors.js';
import { readRegularFile } from '../host/regular-file.js';

const triple = z.tuple([z.number(), z.number(), z.number()]);
const side = z.number().int().positive().max(16384);

const schema = z
  .object({
    name: z.string().min(1).optional(),
    labels: z.union([z.string().min(1), z.array(z.string())]).optional(),
    batching: z
      .object({
        maxBatchSize: z.number().int().min(1).max(1024).optional(),
        maxQueueDelayMs: z.number().min(0).max(10_000).optional(),
        preferredBatchSizes: z.array(z.number().int().min(1).max(1024)).optional(),
        maxQueueSize: z.number().int().min(0).max(100_000).optional(),
        queueTimeoutMs: z.number().int().min(1).max(3_600_000).optional(),
      })
      .strict()
      .optional(),
    versionPolicy: z
      .union([
        z.object({ latest: z.number().int().positive() }).strict(),
        z.object({ all: z.literal(true) }).strict(),
        z
          .object({
            specific: z
              .array(z.union([z.string().min(1), z.number().int().nonnegative().transform(String)]))
              .min(1),
          })
          .strict(),
      ])
      .optional(),
    input: z
      .object({
        name: z.string().min(1).optional(),
        layout: z.enum(['NCHW', 'NHWC']).optional(),
        dtype: z.enum(['float32', 'uint8', 'float16']).optional(),
        colorOrder: z.enum(['RGB', 'BGR']).optional(),
        size: z.union([side, z.tuple([side, side])]).optional(),
        resizeMode: z.enum(['shorter-side-then-center-crop', 'stretch']).optional(),
        resizeShorterSide: side.optional(),
        scale: z.number().finite().optional(),
        mean: triple.optional(),
        std: triple.refine((t) => t.every((v) => v !== 0), 'std values must not be 0').optional(),
      })
      .strict()
      .optional(),
    output: z
      .object({
        name: z.string().min(1).optional(),
        kind: z.enum(['logits', 'probabilities']).optional(),
        backgroundClass: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** Checks a parsed model.json (or a zoo entry's config). Throws SKIFF_CONFIG_INVALID naming the bad key. */
export function parseModelConfig(value: unknown, source: string): ModelConfigFile {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '' : ` "${issue.path.join('.')}"`;
    throw new SkiffError('SKIFF_CONFIG_INVALID', `${source}${where}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data as ModelConfigFile;
}

/**
 * Reads and checks a model.json, which must be a regular file. `file` bounds the wait (a hung mount) and may
 * name the file differently in messages. Throws SKIFF_CONFIG_UNREADABLE or SKIFF_CONFIG_INVALID.
 */
export async function readModelConfig(
  path: string,
  file: Pick<FileCheck, 'timeoutMs' | 'signal' | 'shownAs'> = {},
): Promise<ModelConfigFile> {
  const shown = file.shownAs ?? path;
  const bytes = await readRegularFile(path, {
    ...file,
    code: 'SKIFF_CONFIG_UNREADABLE',
    what: 'model config',
  });
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new SkiffError(
      'SKIFF_CONFIG_UNREADABLE',
      `model config ${shown} is not valid JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return parseModelConfig(value, shown);
}
