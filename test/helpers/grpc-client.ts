import {
  InterceptingCall,
  Metadata as GrpcMetadata,
  credentials,
  loadPackageDefinition,
} from '@grpc/grpc-js';
import type {
  CallOptions,
  Client,
  ClientOptions,
  Interceptor,
  Metadata,
  ServiceError,
  StatusObject,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { inferenceProtoPath } from '../../src/adapters/grpc/inference-proto.js';

/**
 * A real grpc-js client of `inference.GRPCInferenceService`, built from the server's own .proto with its own
 * loader options (defaults on, as a typical client has them), so that it does not share the server's view.
 */
export interface InferenceClient {
  call<M extends Method>(method: M, request: object): Promise<Responses[M]>;
  /** The response, the response headers (initial metadata) and the trailing metadata. */
  callWithTrailers<M extends Method>(
    method: M,
    request: object,
  ): Promise<{ response: Responses[M]; headers: Metadata | undefined; trailers: Metadata }>;
  /** Expects the call to fail; resolves with the error. `deadlineMs`: the call's deadline from now. */
  fail(method: string, request: object, deadlineMs?: number): Promise<ServiceError>;
  /** Starts a call and returns a function that cancels it, as a client that gives up does. */
  abandon(method: string, request: object): () => void;
  close(): void;
}

/** Messages as decoded with the client's options: 64-bit integers as strings, every field present. */
export interface OutputMessage {
  name: string;
  datatype: string;
  shape: string[];
  parameters: Record<string, unknown>;
  contents: Record<string, unknown[]> | null;
}

export interface InferResponseMessage {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, unknown>;
  outputs: OutputMessage[];
  raw_output_contents: Buffer[];
}

interface TensorMetadataMessage {
  name: string;
  datatype: string;
  shape: string[];
}

interface Responses {
  ServerLive: { live: boolean };
  ServerReady: { ready: boolean };
  ModelReady: { ready: boolean };
  ServerMetadata: { name: string; version: string; extensions: string[] };
  ModelMetadata: {
    name: string;
    versions: string[];
    platform: string;
    inputs: TensorMetadataMessage[];
    outputs: TensorMetadataMessage[];
  };
  ModelInfer: InferResponseMessage;
  RepositoryIndex: { models: { name: string; version: string; state: string; reason: string }[] };
  RepositoryModelLoad: Record<string, never>;
  RepositoryModelUnload: Record<string, never>;
}

export type Method = keyof Responses;

interface UnaryMethod {
  (
    request: object,
    callback: (error: ServiceError | null, response?: unknown) => void,
  ): {
    on(event: 'status', listener: (status: StatusObject) => void): void;
    on(event: 'metadata', listener: (metadata: Metadata) => void): void;
    cancel(): void;
  };
  (
    request: object,
    metadata: Metadata,
    options: CallOptions,
    callback: (error: ServiceError | null, response?: unknown) => void,
  ): { cancel(): void };
}

/**
 * `token`: sent on every call as metadata `authorization: Bearer <token>`; `metadata`: more keys sent on
 * every call (x-request-id, traceparent).
 */
export function inferenceClient(
  port: number,
  token?: string,
  metadata: Readonly<Record<string, string>> = {},
): InferenceClient {
  const definition = loadSync(inferenceProtoPath(), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const inference = loadPackageDefinition(definition).inference as Record<
    string,
    new (
      address: string,
      creds: ReturnType<typeof credentials.createInsecure>,
      options?: ClientOptions,
    ) => Client
  >;
  const Service = inference.GRPCInferenceService;
  if (Service === undefined) throw new Error('no GRPCInferenceService in the .proto');
  const withToken: Interceptor = (options, next) =>
    new InterceptingCall(next(options), {
      start: (outgoing, listener, start) => {
        if (token !== undefined) outgoing.set('authorization', `Bearer ${token}`);
        for (const [key, value] of Object.entries(metadata)) outgoing.set(key, value);
        start(outgoing, listener);
      },
    });
  const client = new Service(`127.0.0.1:${port}`, credentials.createInsecure(), {
    interceptors: [withToken],
  });
  const method = (name: string): UnaryMethod => {
    const fn = (client as unknown as Record<string, UnaryMethod | undefined>)[name];
    if (fn === undefined) throw new Error(`no method ${name}`);
    return fn.bind(client);
  };
  const callWithTrailers = <M extends Method>(
    name: M,
    request: object,
  ): Promise<{ response: Responses[M]; headers: Metadata | undefined; trailers: Metadata }> =>
    new Promise((resolve, reject) => {
      let response: Responses[M] | undefined;
      let headers: Metadata | undefined;
      let trailers: Metadata | undefined;
      let failed = false;
      const done = (): void => {
        if (!failed && response !== undefined && trailers !== undefined)
          resolve({ response, headers, trailers });
      };
      const call = method(name)(request, (error, value) => {
        if (error !== null) {
          failed = true;
          reject(error);
          return;
        }
        response = value as Responses[M];
        done();
      });
      call.on('metadata', (received) => {
        headers = received;
      });
      call.on('status', (status) => {
        trailers = status.metadata;
        done();
      });
    });
  return {
    call: async (name, request) => (await callWithTrailers(name, request)).response,
    callWithTrailers,
    fail: (name, request, deadlineMs) =>
      new Promise((resolve, reject) => {
        const callback = (error: ServiceError | null): void => {
          if (error === null) reject(new Error(`${name} succeeded but was expected to fail`));
          else resolve(error);
        };
        if (deadlineMs === undefined) method(name)(request, callback);
        else method(name)(request, new GrpcMetadata(), { deadline: Date.now() + deadlineMs }, callback);
      }),
    abandon: (name, request) => {
      const call = method(name)(request, () => undefined);
      return () => {
        call.cancel();
      };
    },
    close: () => client.close(),
  };
}

/** Splits BYTES raw contents (4-byte little-endian length before each element) into strings. */
export function rawToStrings(raw: Uint8Array): string[] {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out: string[] = [];
  for (let at = 0; at < raw.byteLength;) {
    const length = view.getUint32(at, true);
    out.push(Buffer.from(raw.buffer, raw.byteOffset + at + 4, length).toString('utf8'));
    at += 4 + length;
  }
  return out;
}

/** Float32 values of little-endian raw contents. */
export function rawToFloat32(raw: Uint8Array): number[] {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return Array.from({ length: raw.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

/** Little-endian raw bytes of float32 values. */
export function float32ToRaw(values: readonly number[]): Buffer {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => out.writeFloatLE(v, i * 4));
  return out;
}
