import type { DataType } from '../core/tensor/data-type.js';
import type { ModelConfiguration, ConfiguredTensor } from '../core/inference-types.js';
import type { Duration, ModelStatistics } from '../core/statistics/inference-statistics.js';

/**
 * Triton's model configuration and statistics messages (model_config.proto, grpc_service.proto), field for
 * field, for both adapters: REST sends them as JSON, gRPC serializes the same objects with Skiff's .proto,
 * whose messages keep Triton's names and numbers. `u64` writes a 64-bit count as each wire wants it (a
 * JSON number or digits, a decimal string for protobuf).
 */
export type U64<T> = (value: number | bigint) => T;

/** model_config.proto's DataType names: BYTES is TYPE_STRING there. */
export function tritonDataType(type: DataType): string {
  return type === 'BYTES' ? 'TYPE_STRING' : `TYPE_${type}`;
}

export function tritonModelConfig<T>(config: ModelConfiguration, u64: U64<T>): Record<string, unknown> {
  const tensor = (info: ConfiguredTensor, input: boolean): Record<string, unknown> => ({
    name: info.name,
    data_type: tritonDataType(info.datatype),
    ...(input ? { format: info.format === undefined ? 'FORMAT_NONE' : `FORMAT_${info.format}` } : {}),
    dims: info.dims.map((d) => u64(d)),
  });
  const policy = config.versionPolicy;
  return {
    name: config.name,
    platform: config.platform,
    backend: config.backend,
    version_policy:
      'latest' in policy
        ? { latest: { num_versions: policy.latest } }
        : 'all' in policy
          ? { all: {} }
          : {
              specific: {
                versions: policy.specific.filter((v) => /^\d+$/.test(v)).map((v) => u64(BigInt(v))),
              },
            },
    max_batch_size: config.maxBatchSize,
    input: config.inputs.map((info) => tensor(info, true)),
    output: config.outputs.map((info) => tensor(info, false)),
    instance_group: [{ name: `${config.name}_0`, kind: 'KIND_CPU', count: config.instanceCount }],
    ...(config.dynamicBatching === undefined
      ? {}
      : {
          dynamic_batching: {
            preferred_batch_size: [...config.dynamicBatching.preferredBatchSizes],
            max_queue_delay_microseconds: u64(config.dynamicBatching.maxQueueDelayMicroseconds),
            default_queue_policy: {
              timeout_action: 'REJECT',
              default_timeout_microseconds: u64(config.dynamicBatching.queueTimeoutMicroseconds),
              allow_timeout_override: false,
              max_queue_size: config.dynamicBatching.maxQueueSize,
            },
          },
        }),
  };
}

export function tritonStatistics<T>(
  statistics: readonly ModelStatistics[],
  u64: U64<T>,
): { model_stats: Record<string, unknown>[] } {
  const duration = ({ count, ns }: Duration): { count: T; ns: T } => ({ count: u64(count), ns: u64(ns) });
  const none = duration({ count: 0, ns: 0n });
  return {
    model_stats: statistics.map((s) => ({
      name: s.name,
      version: s.version,
      last_inference: u64(s.lastInferenceMs),
      inference_count: u64(s.inferenceCount),
      execution_count: u64(s.executionCount),
      inference_stats: {
        success: duration(s.success),
        fail: duration(s.fail),
        queue: duration(s.queue),
        compute_input: duration(s.computeInput),
        compute_infer: duration(s.computeInfer),
        compute_output: duration(s.computeOutput),
        // Skiff has no response cache.
        cache_hit: none,
        cache_miss: none,
      },
      response_stats: {},
      batch_stats: s.batches.map((b) => ({
        batch_size: u64(b.batchSize),
        compute_input: duration(b.computeInput),
        compute_infer: duration(b.computeInfer),
        compute_output: duration(b.computeOutput),
      })),
      memory_usage: [],
    })),
  };
}
