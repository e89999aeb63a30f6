import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { InferenceService } from '../../core/inference-service.js';
import { isSplitBody, readBody, wholeBody } from './read-body.js';
import { SkiffError } from '../../core/errors.js';
import type { RequestContext } from '../../core/request/request-context.js';
import type { DecodePool } from '../decode/decode-pool.js';
import { encodeInferResponse } from '../decode/oip-codec.js';
import { parseJsonBody } from '../decode/json-body.js';
import { contextOf } from './http-context.js';
import { tritonModelConfig, tritonStatistics } from '../triton-messages.js';
import type { RawJsonNumber } from '../../core/tensor/exact-json.js';
import { exactJsonInteger } from '../../core/tensor/exact-json.js';

interface ModelParams {
  readonly model: string;
  readonly version?: string;
}

const HEADER_LENGTH = 'inference-header-content-length';

/** 64-bit counts as JSON numbers, exact past 2^53. */
const jsonU64 = (value: number | bigint): number | RawJsonNumber =>
  typeof value === 'bigint' ? exactJsonInteger(value) : value;

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
  // Clients join paths both ways: tritonclient asks for "v2", a base URL ending in "/" gives "/v2/".
  app.get('/v2', async () => service.serverMetadata());
  app.get('/v2/', async () => service.serverMetadata());
  // KServe's model list (its python server's /v2/models); Triton has none, and ignores it.
  app.get('/v2/models', async () => ({ models: service.modelNames() }));

  // Triton's statistics and model configuration extensions (static /v2/models/stats wins over a model name).
  app.get('/v2/models/stats', async () => tritonStatistics(service.modelStatistics(), jsonU64));
  for (const prefix of ['/v2/models/:model', '/v2/models/:model/versions/:version']) {
    app.get<{ Params: ModelParams }>(prefix, async (request) =>
      service.modelMetadata(request.params.model, request.params.version),
    );
    app.get<{ Params: ModelParams }>(`${prefix}/stats`, async (request) =>
      tritonStatistics(service.modelStatistics(request.params.model, request.params.version), jsonU64),
    );
    app.get<{ Params: ModelParams }>(`${prefix}/config`, async (request) =>
      tritonModelConfig(service.modelConfiguration(request.params.model, request.params.version), jsonU64),
    );
    app.get<{ Params: ModelParams }>(`${prefix}/ready`, async (request, reply) => {
      const { name, ready, reason } = service.modelReadiness(request.params.model, request.params.version);
      // Triton reads the status; KServe's server answers {"name", "ready"}, which costs nothing to add.
      return ready
        ? reply.code(200).send({ name, ready })
        : reply.code(400).send({ name, ready, error: reason });
    });
  }

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // A binary-extension body is read with its tensor bytes apart from its JSON header (read-body.ts).
    scope.addContentTypeParser('*', (request: FastifyRequest, payload: Readable) =>
      readBody(
        request,
        payload,
        request.routeOptions.bodyLimit,
        headerLengthOf(request.headers[HEADER_LENGTH]),
      ),
    );
    // Model repository extension. Triton answers load/unload with an empty 200 and its clients read only the
    // status; KServe's server answers {"name", "load": true}, which is given too.
    scope.post('/v2/repository/index', async (request) => {
      const { ready } = repositoryBody(request.body, service.limits.maxJsonDepth);
      return service.repositoryIndex(ready === true);
    });
    scope.post<{ Params: { model: string } }>('/v2/repository/models/:model/load', async (request, reply) => {
      const { parameters } = repositoryBody(request.body, service.limits.maxJsonDepth);
      await service.loadModel(request.params.model, Object.keys(parameters ?? {}));
      return reply.code(200).send({ name: request.params.model, load: true });
    });
    scope.post<{ Params: { model: string } }>(
      '/v2/repository/models/:model/unload',
      async (request, reply) => {
        // Triton's unload_dependents is accepted and has nothing to do: Skiff has no ensembles.
        repositoryBody(request.body, service.limits.maxJsonDepth);
        await service.unloadModel(request.params.model);
        return reply.code(200).send({ name: request.params.model, unload: true });
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

/**
 * A repository request body: empty (tritonclient's index request), or a JSON object with Triton's `ready`
 * (index) or `parameters` (load, unload). Anything else is SKIFF_BAD_REQUEST.
 */
function repositoryBody(
  body: unknown,
  maxDepth: number,
): {
  readonly ready?: unknown;
  readonly parameters?: Readonly<Record<string, unknown>>;
} {
  const bytes = wholeBody(body);
  if (bytes === undefined || bytes.length === 0) return {};
  const parsed = parseJsonBody(bytes, maxDepth);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new SkiffError('SKIFF_BAD_REQUEST', 'the request body must be a JSON object');
  const { ready, parameters } = parsed as { ready?: unknown; parameters?: unknown };
  if (ready !== undefined && typeof ready !== 'boolean')
    throw new SkiffError('SKIFF_BAD_REQUEST', '"ready" must be true or false');
  if (parameters === undefined) return { ready };
  if (parameters === null || typeof parameters !== 'object' || Array.isArray(parameters))
    throw new SkiffError('SKIFF_BAD_REQUEST', '"parameters" must be a JSON object');
  return { ready, parameters: parameters as Record<string, unknown> };
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
  const split = isSplitBody(body) ? body : undefined;
  if (split === undefined && (!Buffer.isBuffer(body) || body.length === 0))
    throw new SkiffError(
      'SKIFF_BAD_REQUEST',
      'the infer request has no body; send the JSON inference request',
    );
  const headerLength = headerLengthOf(header);
  if (header !== undefined && headerLength === undefined)
    throw new SkiffError(
      'SKIFF_BAD_REQUEST',
      'Inference-Header-Content-Length must be a whole number of bytes',
    );
  // The model first: an unknown one is 404 whatever the body holds.
  const model = service.model(params.model, params.version);
  // A raw binary body is read by the model's inputs, which a model not yet loaded does not have.
  if (headerLength === 0 && model.state !== 'ready') {
    throw new SkiffError(
      'SKIFF_MODEL_NOT_READY',
      service.modelReadiness(params.model, params.version).reason,
    );
  }
  const decoded = await decoder.decode(
    {
      kind: 'oip',
      body: split === undefined ? (body as Buffer) : split.header,
      ...(split === undefined ? {} : { binary: split.binary }),
      model: params.model,
      version: params.version,
      headerLength,
      declared: model.state === 'ready' ? model.inputs : undefined,
    },
    context.signal,
  );
  const response = await service.inferTensors(context, decoded.request);
  const encoded = encodeInferResponse(response, decoded.binaryOutputs, service.limits.maxResponseBytes);
  if (encoded.headerLength === undefined) return reply.type('application/json').send(encoded.body);
  return reply
    .type('application/octet-stream')
    .header('Inference-Header-Content-Length', String(encoded.headerLength))
    .send(encoded.body);
}

/** The binary extension's header length, or undefined when the header is absent or not a whole number. */
function headerLengthOf(header: string | string[] | undefined): number | undefined {
  const text = Array.isArray(header) ? header[0] : header;
  return text !== undefined && /^\d{1,12}$/.test(text) ? Number(text) : undefined;
}
