import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { ServiceDefinition } from '@grpc/grpc-js';
import type { Options } from '@grpc/proto-loader';

// tsc does not copy the .proto into dist/, and src/ ships in the package: read it from the source tree.
// The sibling path serves code run from src/ directly (tsx, ts-node).
const CANDIDATES = [
  new URL('./grpc_predict_v2.proto', import.meta.url),
  new URL('../../../../src/adapters/grpc/grpc_predict_v2.proto', import.meta.url),
];

/** The path of grpc_predict_v2.proto; clients (and tests) build their stubs from the same file. */
export function inferenceProtoPath(): string {
  for (const url of CANDIDATES) {
    const file = fileURLToPath(url);
    if (existsSync(file)) return file;
  }
  throw new Error(
    `grpc_predict_v2.proto not found at ${CANDIDATES.map((u) => fileURLToPath(u)).join(' or ')}`,
  );
}

/**
 * How messages are decoded: field names as in the .proto, 64-bit integers as decimal strings (exact,
 * unlike Number), bytes as Buffers, repeated and map fields always present.
 */
export const PROTO_LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  arrays: true,
  objects: true,
  oneofs: true,
};

/** The `inference.GRPCInferenceService` definition to add to a grpc-js server. */
export function loadInferenceService(): ServiceDefinition {
  const root = loadPackageDefinition(loadSync(inferenceProtoPath(), PROTO_LOADER_OPTIONS));
  const inference = root.inference as { GRPCInferenceService?: { service: ServiceDefinition } } | undefined;
  const service = inference?.GRPCInferenceService?.service;
  if (service === undefined)
    throw new Error('grpc_predict_v2.proto defines no inference.GRPCInferenceService');
  return service;
}
