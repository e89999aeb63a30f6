import type { FastifyInstance } from 'fastify';
import type { InferenceService } from '../../core/inference-service.js';
import type { Tensor } from '../../core/tensor/tensor.js';
import { SkiffError } from '../../core/errors.js';
import { ElementBudget } from '../../core/request/element-budget.js';
import { rowsToTensor, tensorToRows } from './tensor-rows.js';
import { contextOf } from './http-context.js';

interface V1Body {
  readonly instances?: unknown;
  readonly inputs?: unknown;
}

/**
 * KServe V1 / TF-Serving predict: `{"instances": [...]}` (row format) or `{"inputs": ...}` (columnar) in,
 * `{"predictions": [...]}` out. Image models also take instances `{"b64": "<base64 image>"}` and answer
 * each with the seed's predictions list.
 */
export function registerV1Routes(app: FastifyInstance, service: InferenceService, defaultTopK: number): void {
  // KServe's "List Models": each served name once, whatever its versions or state.
  app.get('/v1/models', async () => ({ models: [...new Set(service.list().map((m) => m.name))] }));

  app.get<{ Params: { model: string } }>('/v1/models/:model', async (request) => {
    const { ready } = service.modelReadiness(request.params.model);
    return { name: request.params.model, ready };
  });

  // `::` is Fastify's literal colon: the path is /v1/models/<model>:predict. The constraint keeps the colon
  // out of the name; without it the parameter would be called "model::predict" and `model` be undefined.
  app.post<{ Params: { model: string }; Body: V1Body }>(
    '/v1/models/:model([^:/]+)::predict',
    { config: { inference: true } },
    async (request) => {
      const model = request.params.model;
      const context = contextOf(request);
      const raw: unknown = request.body;
      if (raw === null || typeof raw !== 'object')
        throw new SkiffError('SKIFF_BAD_REQUEST', 'expected a JSON object with "instances" or "inputs"');
      const body = raw as V1Body;
      if (Array.isArray(body.instances) && body.instances.length > service.limits.maxInstances) {
        throw new SkiffError(
          'SKIFF_TOO_MANY_INSTANCES',
          `${body.instances.length} instances in one request; the limit is ${service.limits.maxInstances} (--max-instances)`,
        );
      }
      const images = imageInstances(body.instances);
      if (images !== undefined) {
        const results = await service.classifyImages(context, model, images, defaultTopK);
        return {
          predictions: results.map((result) =>
            result.predictions.map((p) => ({ label: p.label, probability: p.probability })),
          ),
        };
      }
      const metadata = service.modelMetadata(model);
      const limit = new ElementBudget(service.limits);
      const inputs: Record<string, Tensor> = {};
      if (body.instances !== undefined) {
        const rows = body.instances;
        if (!Array.isArray(rows)) throw new SkiffError('SKIFF_BAD_TENSOR', '"instances" must be a list');
        if (metadata.inputs.length === 1 && metadata.inputs[0] !== undefined) {
          inputs[metadata.inputs[0].name] = rowsToTensor(metadata.inputs[0], rows, limit);
        } else {
          for (const input of metadata.inputs) {
            inputs[input.name] = rowsToTensor(
              input,
              rows.map((row: unknown) =>
                row !== null && typeof row === 'object' && !Array.isArray(row)
                  ? (row as Record<string, unknown>)[input.name]
                  : undefined,
              ),
              limit,
            );
          }
        }
      } else if (body.inputs !== undefined) {
        const columns = body.inputs;
        if (Array.isArray(columns) && metadata.inputs.length === 1 && metadata.inputs[0] !== undefined) {
          inputs[metadata.inputs[0].name] = rowsToTensor(metadata.inputs[0], columns, limit);
        } else if (columns !== null && typeof columns === 'object' && !Array.isArray(columns)) {
          for (const input of metadata.inputs)
            inputs[input.name] = rowsToTensor(input, (columns as Record<string, unknown>)[input.name], limit);
        } else {
          throw new SkiffError(
            'SKIFF_BAD_TENSOR',
            '"inputs" must be a tensor (for a one-input model) or an object of tensors by input name',
          );
        }
      } else {
        throw new SkiffError('SKIFF_BAD_REQUEST', 'the request needs "instances" or "inputs"');
      }
      const response = await service.inferTensors(context, { model, inputs });
      const [first, ...others] = response.outputs;
      if (first === undefined) return { predictions: [] };
      if (others.length === 0) return { predictions: tensorToRows(first.tensor) };
      const columns = response.outputs.map((o) => [o.name, tensorToRows(o.tensor)] as const);
      return {
        predictions: tensorToRows(first.tensor).map((_, row) =>
          Object.fromEntries(columns.map(([name, rows]) => [name, rows[row]])),
        ),
      };
    },
  );
}

/** Instances that are all `{"b64": ...}` (or TF-Serving's `{"image_bytes": {"b64": ...}}`) are images. */
function imageInstances(instances: unknown): Uint8Array[] | undefined {
  if (!Array.isArray(instances) || instances.length === 0) return undefined;
  const images: Uint8Array[] = [];
  for (const instance of instances) {
    const holder =
      instance !== null && typeof instance === 'object' ? (instance as Record<string, unknown>) : undefined;
    const inner =
      holder?.image_bytes !== undefined && typeof holder.image_bytes === 'object'
        ? (holder.image_bytes as Record<string, unknown>)
        : holder;
    const b64 = inner?.b64;
    if (typeof b64 !== 'string') return undefined;
    images.push(Buffer.from(b64, 'base64'));
  }
  return images;
}
