import type { ServedModel } from './registry/served-model.js';
import type { ConfiguredTensor, ModelConfiguration } from './inference-types.js';
import type { TensorInfo } from './tensor/tensor.js';
import { SkiffError } from './errors.js';
import { STATE_WORDS } from './registry/state-words.js';

/**
 * The model's configuration as Skiff serves it (Triton's model configuration extension). Needs a loaded
 * model: its tensors are only known once the runtime has read the file (SKIFF_MODEL_NOT_READY before).
 */
export function modelConfiguration(model: ServedModel): ModelConfiguration {
  if (model.state !== 'ready' && model.inputs.length === 0) {
    throw new SkiffError(
      'SKIFF_MODEL_NOT_READY',
      `model "${model.name}" is not loaded (${STATE_WORDS[model.state]}); its configuration is known once it is`,
    );
  }
  const batching = model.batching;
  const batched = batching !== undefined;
  const layout = model.classifier.ok ? model.classifier.contract.input : undefined;
  const tensor = (info: TensorInfo): ConfiguredTensor => ({
    name: info.name,
    datatype: info.type,
    dims: batched ? info.shape.slice(1) : [...info.shape],
    ...(layout?.name === info.name ? { format: layout.layout } : {}),
  });
  const queueTimeoutMs = model.spec.config.batching?.queueTimeoutMs ?? 0;
  return {
    name: model.name,
    platform: model.platform,
    backend: 'onnxruntime',
    versionPolicy: model.spec.config.versionPolicy ?? { latest: 1 },
    maxBatchSize: batching?.maxBatchSize ?? 0,
    inputs: model.inputs.map(tensor),
    outputs: model.outputs.map(tensor),
    instanceCount: model.spec.runtimeOptions.workers,
    dynamicBatching:
      batching === undefined
        ? undefined
        : {
            preferredBatchSizes: batching.preferredBatchSizes,
            maxQueueDelayMicroseconds: Math.round(batching.maxQueueDelayMs * 1000),
            maxQueueSize: model.maxQueueSize,
            queueTimeoutMicroseconds: Math.round(queueTimeoutMs * 1000),
          },
  };
}
