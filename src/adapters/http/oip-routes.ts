import type { FastifyInstance, FastifyReply } from 'fastify';
import type { InferenceService } from '../../core/inference-service.js';
import { SkiffError } from '../../core/errors.js';
import type { RequestContext } from '../../core/request/request-context.js';
import type { DecodePool } from '../decode/decode-pool.js';
import { encodeInferResponse } from '../decode/oip-codec.js';
import { contextOf } from './http-context.js';

interface ModelParams {
  readonly model: string;
  readonly version?: string;
}

const HEADER_LENGTH = 'inference-header-content-length';

/**
 * Open Inference Protocol v2 over REST (KServe V2 / Triton): server and model metadata, readiness, and
 * inference with the binary tensor data and classification extensions. Registered in its own scope so the
 * infer body is read raw (a JSON header may be followed by binary tensor data).
 */
export async function registerOipRoutes(
  app: FastifyInstance,
  service: InferenceService,
  decoder: DecodePool,
): Promise<void> {
  app.get('/v2', async () => service.serverMetadata());

  for (const prefix of ['/v2/models/:model', '/v2/models/:model/versions/:version']) {
    app.get<{ Params: ModelParams }>(prefix, async (request) =>
      service.modelMetadata(request.params.model, request.params.version),
    );
    app.get<{ Params: ModelParams }>(`${prefix}/ready`, async (request, reply) => {
      const { ready, reason } = service.modelReadiness(request.params.model, request.params.version);
      return ready ? reply.code(200).send() : reply.code(400).send({ error: reason });
    });
  }

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
      done(null, body);
    });
    // Model repository extension; Triton answers load/unload with an empty 200.
    scope.post('/v2/repository/index', async () => service.repositoryIndex());
    scope.post<{ Params: { model: string } }>('/v2/repository/models/:model/load', async (request, reply) => {
      await service.loadModel(request.params.model);
      return reply.code(200).send({});
    });
    scope.post<{ Params: { model: string } }>(
      '/v2/repository/models/:model/unload',
      async (request, reply) => {
        await service.unloadModel(request.params.model);
        return reply.code(200).send({});
      },
    );
    for (const prefix of ['/v2/models/:model', '/v2/models/:model/versions/:version']) {
      scope.post<{ Params: ModelParams }>(
        `${prefix}/infer`,
        { config: { inference: true } },
        async (request, reply) =>
          infer(
            contextOf(request),
            service,
            decoder,
            request.params,
            request.body,
            request.headers[HEADER_LENGTH],
            reply,
          ),
      );
    }
  });
}

async function infer(
  context: RequestContext,
  service: InferenceService,
  decoder: DecodePool,
  params: ModelParams,
  body: unknown,
  header: string | string[] | undefined,
  reply: FastifyReply,
): Promise<FastifyReply> {
  if (!Buffer.isBuffer(body) || body.length === 0)
    throw new SkiffError(
      'SKIFF_BAD_REQUEST',
      'the infer request has no body; send the JSON inference request',
    );
  let headerLength: number | undefined;
  if (header !== undefined) {
    const text = Array.isArray(header) ? header[0] : header;
    if (text === undefined || !/^\d{1,12}$/.test(text))
      throw new SkiffError(
        'SKIFF_BAD_REQUEST',
        'Inference-Header-Content-Length must be a whole number of bytes',
      );
    headerLength = Number(text);
  }
  // The model first: an unknown one is 404 whatever the body holds.
  const model = service.model(params.model, params.version);
  const decoded = await decoder.decode({
    kind: 'oip',
    body,
    model: params.model,
    version: params.version,
    headerLength,
    declared: model.state === 'ready' ? model.inputs : undefined,
  });
  const response = await service.inferTensors(context, decoded.request);
  const encoded = encodeInferResponse(response, decoded.binaryOutputs, service.limits.maxResponseBytes);
  if (encoded.headerLength === undefined) return reply.type('application/json').send(encoded.body);
  return reply
    .type('application/octet-stream')
    .header('Inference-Header-Content-Length', String(encoded.headerLength))
    .send(encoded.body);
}
