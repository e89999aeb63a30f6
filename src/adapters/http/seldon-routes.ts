import type { FastifyInstance } from 'fastify';
import type { InferenceService } from '../../core/inference-service.js';
import { SkiffError } from '../../core/errors.js';
import { tensorFromJson, tensorToJson } from '../../core/tensor/json-tensor.js';
import { ElementBudget } from '../../core/request/element-budget.js';
import { rowsToTensor, tensorToRows } from './tensor-rows.js';
import { contextOf } from './http-context.js';

interface SeldonMessage {
  readonly data?: unknown;
  readonly binData?: unknown;
  readonly strData?: unknown;
  readonly jsonData?: unknown;
}

interface SeldonData {
  readonly names?: unknown;
  readonly ndarray?: unknown;
  readonly tensor?: { readonly shape?: unknown; readonly values?: unknown };
}

/**
 * Seldon Core v1 protocol for a one-model deployment: `data.ndarray` and `data.tensor` in, the same form out;
 * `binData` (a base64 image) is classified and answered as `jsonData.predictions`.
 */
export function registerSeldonRoutes(
  app: FastifyInstance,
  service: InferenceService,
  defaultTopK: number,
): void {
  app.get<{ Querystring: { model?: string } }>('/api/v1.0/metadata', async (request) => {
    const model = service.model(request.query.model);
    const metadata = service.modelMetadata(model.name);
    const schema = (t: {
      name: string;
      datatype: string;
      shape: readonly number[];
    }): Record<string, unknown> => ({
      messagetype: 'tensor',
      schema: { names: [t.name], datatype: t.datatype, shape: t.shape },
    });
    return {
      name: metadata.name,
      versions: metadata.versions,
      platform: metadata.platform,
      inputs: metadata.inputs.map(schema),
      outputs: metadata.outputs.map(schema),
    };
  });

  app.post<{ Querystring: { model?: string }; Body: SeldonMessage }>(
    '/api/v1.0/predictions',
    { config: { inference: true } },
    async (request) => {
      const context = contextOf(request);
      const body: unknown = request.body;
      if (body === null || typeof body !== 'object')
        throw new SkiffError(
          'SKIFF_BAD_REQUEST',
          'expected a Seldon message: {"data": {"ndarray": ...}} or {"binData": ...}',
        );
      const message = body as SeldonMessage;
      const model = service.model(request.query.model);
      if (typeof message.binData === 'string') {
        const result = await service.classifyImage(
          context,
          model.name,
          Buffer.from(message.binData, 'base64'),
          defaultTopK,
        );
        return {
          jsonData: {
            predictions: result.predictions.map((p) => ({ label: p.label, probability: p.probability })),
          },
          meta: {},
        };
      }
      if (message.strData !== undefined || message.jsonData !== undefined) {
        throw new SkiffError(
          'SKIFF_BAD_REQUEST',
          'strData and jsonData requests are not supported; send data.ndarray, data.tensor or binData',
        );
      }
      const raw = message.data;
      if (raw === null || typeof raw !== 'object')
        throw new SkiffError('SKIFF_BAD_REQUEST', 'the message has no "data", "binData" or "strData"');
      const data = raw as SeldonData;
      const metadata = service.modelMetadata(model.name);
      const [input, ...more] = metadata.inputs;
      if (input === undefined || more.length > 0)
        throw new SkiffError(
          'SKIFF_BAD_TENSOR',
          `the Seldon protocol feeds one input; model "${model.name}" has ${metadata.inputs.length}`,
        );
      const tensorSpec = data.tensor;
      const tensorForm = tensorSpec !== undefined;
      let tensor;
      if (tensorSpec !== undefined) {
        const shape = tensorSpec.shape;
        if (
          !Array.isArray(shape) ||
          !shape.every((d): d is number => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)
        )
          throw new SkiffError(
            'SKIFF_BAD_TENSOR',
            'data.tensor.shape must be a list of non-negative integers',
          );
        new ElementBudget(service.limits).add(input.name, input.datatype, shape);
        tensor = tensorFromJson(input.name, input.datatype, shape, tensorSpec.values);
      } else {
        tensor = rowsToTensor(input, data.ndarray, new ElementBudget(service.limits));
      }
      const response = await service.inferTensors(context, {
        model: model.name,
        inputs: { [input.name]: tensor },
      });
      const output = response.outputs[0];
      if (output === undefined)
        throw new SkiffError('SKIFF_INFERENCE_FAILED', 'the model returned no output');
      const columns = output.tensor.shape.length === 2 ? (output.tensor.shape[1] ?? 0) : 0;
      const labels =
        model.classifier.ok &&
        model.classifier.contract.output.name === output.name &&
        !model.classifier.contract.output.backgroundClass
          ? model.classifier.contract.labels?.short
          : undefined;
      const names = labels ?? Array.from({ length: columns }, (_, i) => `t:${i}`);
      const payload = tensorForm
        ? { names, tensor: { shape: output.tensor.shape, values: tensorToJson(output.tensor) } }
        : { names, ndarray: tensorToRows(output.tensor) };
      return { data: payload, meta: {} };
    },
  );
}
