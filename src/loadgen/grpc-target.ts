import { Client, Metadata, credentials, loadPackageDefinition, status } from '@grpc/grpc-js';
import type { MethodDefinition, ServiceDefinition, ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Target } from './bench-target.js';
import type { OipTensorMetadata } from './oip-infer-request.js';
import { generatedInputs } from './oip-infer-request.js';
import type { Send } from './step-tally.js';
import { LeanGrpcCaller, grpcFrame } from './lean-grpc-caller.js';
import { authorizationHeaders } from './authorization-headers.js';

export interface GrpcTargetOptions {
  /** The served model's name; unset: the server's only ready model (RepositoryIndex). */
  readonly model?: string | undefined;
  readonly inputData: 'random' | 'zero';
  /** Sent on every call as metadata `authorization: Bearer <token>`. */
  readonly authToken?: string | undefined;
  /** Each call's deadline. */
  readonly timeoutMs: number;
}

export interface GrpcTarget extends Target {
  close(): void;
}

const SERVICE = '/inference.GRPCInferenceService/';

/**
 * The service's .proto is read from the source tree (tsc does not copy it into dist/; src/ ships in the
 * package), by path: the load generator imports no server code.
 */
const PROTO_CANDIDATES = [
  new URL('../../../src/adapters/grpc/grpc_predict_v2.proto', import.meta.url),
  new URL('../adapters/grpc/grpc_predict_v2.proto', import.meta.url),
];

// Large outputs would otherwise reach the client 64 KiB at a time, as the server's own window explains
// (src/adapters/grpc/widen-flow-windows.ts).
const FLOW_WINDOW_BYTES = 1 << 20;

/**
 * Open Inference Protocol ModelInfer calls over one HTTP/2 connection, each carrying a random (or zero) tensor
 * per input as `raw_input_contents`, as Triton's perf_analyzer sends them. grpc-js asks the server which model
 * and inputs (RepositoryIndex, ModelMetadata); the calls themselves go through LeanGrpcCaller, the message
 * serialized and framed once and the answer read for its status only.
 */
export async function prepareGrpcTarget(url: string, options: GrpcTargetOptions): Promise<GrpcTarget> {
  const address = grpcAddress(url);
  const service = inferenceService();
  const headers = authorizationHeaders(options.authToken);
  const client = new Client(address, credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
    'grpc.max_send_message_length': -1,
    'grpc-node.flow_control_window': FLOW_WINDOW_BYTES,
  });
  const metadata = (): Metadata => {
    const sent = new Metadata();
    for (const [name, value] of Object.entries(headers)) sent.set(name, value);
    return sent;
  };
  const call = <T>(method: string, request: Buffer, decode: (bytes: Buffer) => T): Promise<T> =>
    new Promise((resolve, reject) => {
      client.makeUnaryRequest<Buffer, T>(
        SERVICE + method,
        (bytes) => bytes,
        decode,
        request,
        metadata(),
        { deadline: Date.now() + options.timeoutMs },
        (error, response) => {
          if (error !== null || response === undefined) reject(error ?? new Error(`${method}: no answer`));
          else resolve(response);
        },
      );
    });
  const unary = <T>(method: string, request: object): Promise<T> => {
    const definition = methodOf(service, method);
    return call(
      method,
      definition.requestSerialize(request),
      (bytes) => definition.responseDeserialize(bytes) as T,
    );
  };
  try {
    const model = options.model ?? (await onlyModel(unary));
    const described = await unary<{ inputs?: { name: string; datatype: string; shape: string[] }[] }>(
      'ModelMetadata',
      { name: model },
    );
    const inputs: OipTensorMetadata[] = (described.inputs ?? []).map((i) => ({
      name: i.name,
      datatype: i.datatype,
      shape: i.shape.map(Number),
    }));
    if (inputs.length === 0) throw new Error(`ModelMetadata for "${model}" lists no inputs`);
    const tensors = generatedInputs(inputs, options.inputData);
    const message = methodOf(service, 'ModelInfer').requestSerialize({
      model_name: model,
      inputs: tensors.map((t) => ({ name: t.input.name, datatype: t.input.datatype, shape: t.shape })),
      raw_input_contents: tensors.map((t) => t.data),
    });
    client.close();
    const caller = new LeanGrpcCaller(`http://${address}`, {
      headers,
      timeoutMs: options.timeoutMs,
      flowWindowBytes: FLOW_WINDOW_BYTES,
    });
    const framed = grpcFrame(message);
    const send: Send = () => caller.call(`${SERVICE}ModelInfer`, framed);
    const shapes = tensors.map((t) => `${t.input.name} ${t.input.datatype} [${t.shape.join(',')}]`);
    return {
      send,
      description: `gRPC ModelInfer ${model} at ${address}, ${options.inputData} ${shapes.join('; ')} as raw_input_contents (${(message.length / 1024).toFixed(1)} KiB)`,
      close: () => caller.close(),
    };
  } catch (error) {
    client.close();
    throw error;
  }
}

/** `grpc://host:port` (or any scheme): grpc-js's `host:port`; the port must be given. */
function grpcAddress(url: string): string {
  const parsed = new URL(url);
  if (parsed.port === '') throw new Error(`${url}: give the gRPC port, e.g. grpc://127.0.0.1:8081`);
  return `${parsed.hostname}:${parsed.port}`;
}

function inferenceService(): ServiceDefinition {
  const file = PROTO_CANDIDATES.map((url) => fileURLToPath(url)).find((path) => existsSync(path));
  if (file === undefined) throw new Error('grpc_predict_v2.proto not found beside the load generator');
  const definition = loadSync(file, { keepCase: true, longs: String, enums: String, arrays: true });
  const loaded = loadPackageDefinition(definition) as {
    inference?: { GRPCInferenceService?: { service: ServiceDefinition } };
  };
  const service = loaded.inference?.GRPCInferenceService?.service;
  if (service === undefined) throw new Error('grpc_predict_v2.proto defines no GRPCInferenceService');
  return service;
}

function methodOf(service: ServiceDefinition, name: string): MethodDefinition<object, unknown> {
  const method = service[name] as MethodDefinition<object, unknown> | undefined;
  if (method === undefined) throw new Error(`grpc_predict_v2.proto defines no ${name}`);
  return method;
}

/** The server's only ready model, from the repository extension's RepositoryIndex. */
async function onlyModel(unary: <T>(method: string, request: object) => Promise<T>): Promise<string> {
  // A server without the repository extension answers UNIMPLEMENTED: then the user must name the model.
  let unlisted = '';
  const index = await unary<{ models?: { name: string; state: string }[] }>('RepositoryIndex', {
    ready: true,
  }).catch((error: unknown) => {
    if ((error as Partial<ServiceError> | undefined)?.code !== status.UNIMPLEMENTED) throw error;
    unlisted = ' (the server lists no models: RepositoryIndex is UNIMPLEMENTED)';
    return { models: [] };
  });
  const names = [...new Set((index.models ?? []).filter((m) => m.state === 'READY').map((m) => m.name))];
  if (names.length === 1 && names[0] !== undefined) return names[0];
  throw new Error(
    `--protocol grpc needs --model <name>${names.length > 1 ? `; the server has ${names.join(', ')}` : unlisted}`,
  );
}
