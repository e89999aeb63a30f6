import type { FastifyInstance } from 'fastify';
import type { HttpAppOptions } from './http-app.js';
import { tensorToRows } from '../decode/tensor-rows.js';
import { contextOf, jsonBytes } from './http-context.js';

/**
 * KServe V1 / TF-Serving predict: `{"instances": [...]}` (row format) or `{"inputs": ...}` (columnar) in,
 * `{"predictions": [...]}` out. Image models also take instances `{"b64": "<base64 image>"}` and answer
 * each with the seed's predictions list. The body is decoded by decode/v1-body.ts.
 */
export function registerV1Routes(app: FastifyInstance, options: HttpAppOptions): void {
  const { service, decoder, defaultTopK } = options;
  // KServe's "List Models": each served name once, whatever its versions or state.
  app.get('/v1/models', async () => ({ models: [...new Set(service.list().map((m) => m.name))] }));

  // KServe's server and client: 503 when the model is not ready (its client reads that as ready: false).
  app.get<{ Params: { model: string } }>('/v1/models/:model', async (request, reply) => {
    const { ready, reason } = service.modelReadiness(request.params.model);
    if (ready) return { name: request.params.model, ready };
    return reply.code(503).send({ name: request.params.model, ready, error: reason });
  });

  // `::` is Fastify's literal colon: the path is /v1/models/<model>:predict. The constraint keeps the colon
  // out of the name; without it the parameter would be called "model::predict" and `model` be undefined.
  app.post<{ Params: { model: string } }>(
    '/v1/models/:model([^:/]+)::predict',
    { config: { inference: true } },
    async (request) => {
      const model = request.params.model;
      const context = contextOf(request);
      // The model first: an unknown one is 404 whatever the body holds.
      const metadata = service.modelMetadata(model);
      const decoded = await decoder.decode(
        {
          kind: 'v1',
          body: jsonBytes(request.body),
          inputs: metadata.inputs,
        },
        context.signal,
      );
      if (decoded.kind === 'images') {
        const results = await service.classifyImages(context, model, decoded.images, defaultTopK);
        return {
          predictions: results.map((result) =>
            result.predictions.map((p) => ({ label: p.label, probability: p.probability })),
          ),
        };
      }
      const response = await service.inferTensors(context, { model, inputs: decoded.inputs });
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
