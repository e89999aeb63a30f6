import type { FastifyInstance } from 'fastify';
import type { HttpAppOptions } from './http-app.js';
import { SkiffError } from '../../core/errors.js';
import { tensorToJson } from '../../core/tensor/json-tensor.js';
import { tensorToRows } from '../decode/tensor-rows.js';
import { contextOf, jsonBytes } from './http-context.js';

/**
 * Seldon Core v1 protocol for a one-model deployment: `data.ndarray` and `data.tensor` in, the same form out;
 * `binData` (a base64 image) is classified and answered as `jsonData.predictions`.
 */
export function registerSeldonRoutes(app: FastifyInstance, options: HttpAppOptions): void {
  const { service, decoder, defaultTopK } = options;
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

  app.post<{ Querystring: { model?: string } }>(
    '/api/v1.0/predictions',
    { config: { inference: true } },
    async (request) => {
      const context = contextOf(request);
      const model = service.model(request.query.model);
      const metadata = service.modelMetadata(model.name);
      const [input, ...more] = metadata.inputs;
      const decoded = await decoder.decode(
        {
          kind: 'seldon',
          body: jsonBytes(request.body),
          input: more.length === 0 ? input : undefined,
        },
        context.signal,
      );
      if (decoded.kind === 'image') {
        const result = await service.classifyImage(context, model.name, decoded.image, defaultTopK);
        return {
          jsonData: {
            predictions: result.predictions.map((p) => ({ label: p.label, probability: p.probability })),
          },
          meta: {},
        };
      }
      if (input === undefined || more.length > 0)
        throw new SkiffError(
          'SKIFF_BAD_TENSOR',
          `the Seldon protocol feeds one input; model "${model.name}" has ${metadata.inputs.length}`,
        );
      const { tensor, form } = decoded;
      const tensorForm = form === 'tensor';
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
