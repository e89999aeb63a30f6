import { Metadata } from '@grpc/grpc-js';
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { InferenceService } from '../../core/inference-service.js';
import type { ModelInferResponseMessage } from './grpc-codec.js';
import type { DecodePool } from '../decode/decode-pool.js';
import type { Answer, CallOptions } from './grpc-call.js';
import { SkiffError } from '../../core/errors.js';
import { encodeModelInfer } from './grpc-codec.js';
import { NOT_READY_REASON_KEY, callWrapper } from './grpc-call.js';
import type { RawMessage } from './raw-message.js';
import { readModelRef } from './model-infer-scan.js';
import { tritonModelConfig, tritonStatistics } from '../triton-messages.js';

interface ModelRef {
  name?: string;
  version?: string;
}

interface RepositoryRequest {
  repository_name?: string;
  model_name?: string;
  ready?: boolean;
  parameters?: Record<string, unknown>;
}

/**
 * The methods of `inference.GRPCInferenceService`: each only converts its message and calls the
 * InferenceService; callWrapper (grpc-call.ts) does the rest.
 */
export function grpcHandlers(
  service: InferenceService,
  decoder: DecodePool,
  options: CallOptions,
): UntypedServiceImplementation {
  const unary = callWrapper(options);
  const readiness =
    (check: (request: ModelRef) => { ready: boolean; reason: string | undefined }) =>
    (request: ModelRef): Answer<{ ready: boolean }> => {
      const { ready, reason } = check(request);
      const trailers = new Metadata();
      if (!ready && reason !== undefined) trailers.set(NOT_READY_REASON_KEY, asciiHeader(reason));
      return { response: { ready }, trailers };
    };
  const repository =
    <Res>(handle: (request: RepositoryRequest) => Promise<Res>) =>
    (request: RepositoryRequest): Promise<Res> => {
      if ((request.repository_name ?? '') !== '') {
        throw new SkiffError(
          'SKIFF_MODEL_NOT_FOUND',
          `no repository named "${request.repository_name ?? ''}"; Skiff has one: leave repository_name empty`,
        );
      }
      return handle(request);
    };

  return {
    ServerLive: unary('ServerLive', () => ({ live: service.live() })),
    ServerReady: unary(
      'ServerReady',
      readiness(() => ({ ready: service.ready(), reason: service.notReadyReason() })),
      'with-trailers',
    ),
    ModelReady: unary(
      'ModelReady',
      readiness((request) => service.modelReadiness(modelName(request), versionOf(request))),
      'with-trailers',
    ),
    ServerMetadata: unary('ServerMetadata', () => service.serverMetadata()),
    ModelMetadata: unary('ModelMetadata', (request: ModelRef) =>
      service.modelMetadata(modelName(request), versionOf(request)),
    ),
    ModelConfig: unary('ModelConfig', (request: ModelRef) => ({
      config: tritonModelConfig(service.modelConfiguration(modelName(request), versionOf(request)), String),
    })),
    // Triton: an empty name asks for every model, an empty version for every version.
    ModelStatistics: unary('ModelStatistics', (request: ModelRef) =>
      tritonStatistics(
        service.modelStatistics(
          request.name === undefined || request.name === '' ? undefined : request.name,
          versionOf(request),
        ),
        String,
      ),
    ),
    ModelInfer: unary(
      'ModelInfer',
      async (request: RawMessage, context): Promise<ModelInferResponseMessage> => {
        try {
          // The model first: an unknown one is NOT_FOUND whatever the tensors hold (as on REST).
          const ref = readModelRef(request.bytes);
          if (ref.name !== '') service.model(ref.name, ref.version === '' ? undefined : ref.version);
          const decoded = await decoder.decode({ kind: 'grpc-infer', body: request.bytes }, context.signal);
          const response = await service.inferTensors(context, decoded.request);
          return encodeModelInfer(response, decoded.typedOutputs, service.limits.maxResponseBytes);
        } finally {
          request.release();
        }
      },
    ),
    RepositoryIndex: unary(
      'RepositoryIndex',
      repository(async (request) => {
        const entries = await service.repositoryIndex(request.ready === true);
        return {
          models: entries.map(({ name, version, state, reason }) => ({
            name,
            version: version ?? '',
            state,
            reason,
          })),
        };
      }),
    ),
    // The answers carry KServe's fields (model_name = 1, isLoaded/isUnloaded = 2); Triton's response
    // messages are empty, so its clients skip them as unknown fields.
    RepositoryModelLoad: unary('RepositoryModelLoad', async (request: RepositoryRequest) => {
      const name = kserveOrTriton(request);
      await service.loadModel(name, Object.keys(request.parameters ?? {}));
      return { model_name: name, isLoaded: true };
    }),
    RepositoryModelUnload: unary('RepositoryModelUnload', async (request: RepositoryRequest) => {
      const name = kserveOrTriton(request);
      await service.unloadModel(name);
      return { model_name: name, isUnloaded: true };
    }),
  };
}

function modelName(request: ModelRef): string {
  const name = request.name ?? '';
  if (name === '') throw new SkiffError('SKIFF_BAD_REQUEST', 'name (the model name) is required');
  return name;
}

/**
 * The model a load or unload names. Triton's request has repository_name = 1 and model_name = 2; KServe's
 * has model_name = 1 alone, so a request with field 1 set and field 2 empty is KServe's naming a model.
 */
function kserveOrTriton(request: RepositoryRequest): string {
  const triton = request.model_name ?? '';
  const first = request.repository_name ?? '';
  if (triton === '' && first !== '') return first;
  if (first !== '') {
    throw new SkiffError(
      'SKIFF_MODEL_NOT_FOUND',
      `no repository named "${first}"; Skiff has one: leave repository_name empty`,
    );
  }
  if (triton === '') throw new SkiffError('SKIFF_BAD_REQUEST', 'model_name is required');
  return triton;
}

function versionOf(request: ModelRef): string | undefined {
  return request.version === undefined || request.version === '' ? undefined : request.version;
}

// Metadata values must be printable ASCII; a label or a model name may not be.
function asciiHeader(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 1024);
}
