import { availableParallelism } from 'node:os';
import { z } from 'zod';
import type { ConfigOf, OptionSpec } from './option-table.js';

const positiveNumber = (what: string) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, `expected ${what} as a number, e.g. 2.5`)
    .transform(Number)
    .refine((n) => n > 0, `${what} must be above 0`);

/** "1,2,4,8" → [1, 2, 4, 8]; each entry checked by `entry`. */
const list = (entry: RegExp, what: string) =>
  z
    .string()
    .transform((text) => text.split(',').map((part) => part.trim()))
    .refine((parts) => parts.every((p) => entry.test(p) && Number(p) > 0), `expected ${what}`)
    .transform((parts) => parts.map(Number));

/**
 * Every `skiff bench` option. Flags only: SKIFF_MODEL or SKIFF_IMAGE set for `serve` or `deploy` must not
 * silently change what a benchmark sends.
 */
export const BENCH_OPTIONS = [
  {
    key: 'url',
    type: 'string',
    placeholder: 'url',
    description:
      'the server: a Skiff or any Open Inference Protocol (v2) server; for --protocol grpc its gRPC port, grpc://host:port',
    defaultLabel: 'http://127.0.0.1:5000',
    schema: z.string().url().default('http://127.0.0.1:5000'),
  },
  {
    key: 'model',
    type: 'string',
    placeholder: 'name',
    description: "the served model's name (/predict?model=, /v2/models/<name>)",
    defaultLabel:
      "/predict's default model; for v2 the server's only model (repository index, else GET /v1/models)",
    schema: z.string().min(1).optional(),
  },
  {
    key: 'authToken',
    type: 'string',
    placeholder: 'token',
    description:
      'for a server started with --auth-token: sent as "Authorization: Bearer <token>" (gRPC: the same metadata)',
    defaultLabel: 'none',
    schema: z.string().min(1).optional(),
  },
  {
    key: 'protocol',
    type: 'string',
    placeholder: 'predict|v2|grpc',
    description:
      'predict: multipart images to POST /predict; v2: tensors to POST /v2/models/<name>/infer; grpc: the same tensors as raw_input_contents to ModelInfer',
    defaultLabel: 'predict',
    schema: z.enum(['predict', 'v2', 'grpc']).default('predict'),
  },
  {
    key: 'image',
    type: 'string',
    placeholder: 'files',
    description: 'image files or folders (comma-separated) sent in turn to /predict',
    defaultLabel: 'a generated PNG (see --input-data)',
    schema: z.string().min(1).optional(),
  },
  {
    key: 'inputData',
    type: 'string',
    placeholder: 'random|zero',
    description:
      'without --image: noise or black PNG for predict; random or zero tensors from the model metadata for v2 and grpc',
    defaultLabel: 'random',
    schema: z.enum(['random', 'zero']).default('random'),
  },
  {
    key: 'imageSize',
    type: 'integer',
    placeholder: 'pixels',
    description: 'side of the generated PNG',
    defaultLabel: '224',
    schema: z.number().int().min(1).max(8192).default(224),
  },
  {
    key: 'binaryData',
    type: 'boolean',
    description:
      'v2: tensors as binary data both ways (Triton extension, as perf_analyzer does) rather than JSON numbers',
    defaultLabel: 'true',
    schema: z.boolean().default(true),
  },
  {
    key: 'concurrency',
    type: 'string',
    placeholder: 'list',
    short: 'c',
    description: 'closed loop: requests in flight, one step per value (comma-separated sweep)',
    defaultLabel: '1,2,4,8',
    schema: list(/^\d+$/, 'whole numbers above 0, comma-separated, e.g. 1,2,4,8').default('1,2,4,8'),
  },
  {
    key: 'rate',
    type: 'string',
    placeholder: 'list',
    description: 'open loop instead: arrivals per second, whatever the answers (comma-separated sweep)',
    defaultLabel: 'none (closed loop)',
    schema: list(/^\d+(\.\d+)?$/, 'requests per second above 0, comma-separated, e.g. 5,10,20').optional(),
  },
  {
    key: 'maxInFlight',
    type: 'integer',
    placeholder: 'n',
    description: 'open loop: arrivals finding this many requests unanswered are dropped and counted',
    defaultLabel: '256',
    schema: z.number().int().min(1).default(256),
  },
  {
    key: 'duration',
    type: 'string',
    placeholder: 'seconds',
    short: 'd',
    description: 'length of each step',
    defaultLabel: '10',
    schema: positiveNumber('--duration').default('10'),
  },
  {
    key: 'requests',
    type: 'integer',
    placeholder: 'n',
    short: 'n',
    description: 'instead of --duration: requests per step',
    defaultLabel: 'none',
    schema: z.number().int().min(1).optional(),
  },
  {
    key: 'warmup',
    type: 'string',
    placeholder: 'seconds',
    description: 'unrecorded load before the first step, at the highest level; 0 for none',
    defaultLabel: '2',
    schema: z
      .string()
      .regex(/^\d+(\.\d+)?$/, 'expected --warmup in seconds, e.g. 2 or 0')
      .transform(Number)
      .default('2'),
  },
  {
    key: 'timeout',
    type: 'string',
    placeholder: 'seconds',
    description: 'a request unanswered this long counts as an error',
    defaultLabel: '30',
    schema: positiveNumber('--timeout').default('30'),
  },
  {
    key: 'modelFile',
    type: 'string',
    placeholder: 'file.onnx',
    description:
      'also measure ONNX Runtime alone on this file (same machine, before the load) and print the ratio',
    defaultLabel: 'none',
    schema: z.string().min(1).optional(),
  },
  {
    key: 'threads',
    type: 'integer',
    placeholder: 'n',
    description: "with --model-file: the engine's threads; match the server's workers x threads per worker",
    defaultLabel: 'the number of cores',
    schema: z.number().int().min(1).default(availableParallelism()),
  },
  {
    key: 'json',
    type: 'boolean',
    description: 'print the result as JSON on stdout (the table is not printed)',
    defaultLabel: 'false',
    schema: z.boolean().default(false),
  },
] as const satisfies readonly OptionSpec[];

/** What `skiff bench` runs with; `duration`, `warmup` and `timeout` are in seconds. */
export type BenchConfig = ConfigOf<typeof BENCH_OPTIONS>;
