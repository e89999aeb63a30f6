const MIB = 1024 * 1024;

export interface ResourceSizing {
  readonly cpuRequestMillis: number;
  readonly cpuLimitMillis: number;
  readonly memoryMiB: number;
  /** emptyDir sizeLimit for the model cache. */
  readonly cacheMiB: number;
}

/**
 * Requests and limits from the model file size and the worker layout (docs/kubernetes.md explains it):
 * - memory = 192 MiB (Node, HTTP, image decoding) + workers x 3 x model size (each worker holds its own copy
 *   of the weights; ONNX Runtime's arena and activations roughly double that), rounded up to 64 MiB.
 *   Request and limit are equal so the pod is never OOM-killed for using what it asked for.
 * - CPU request = 100m + 250m per inference thread (workers x threadsPerWorker): enough to be scheduled
 *   densely, and the HPA's utilisation is measured against it. CPU limit = 500m + 1 core per inference thread.
 * - cache = 3 x model size + 64 MiB: the verified file plus a partial download, then the model and ONNX
 *   Runtime's optimized graph saved next to it (about the model's size; docs/performance.md).
 */
export function sizeResources(modelBytes: number, workers: number, threadsPerWorker: number): ResourceSizing {
  const modelMiB = Math.ceil(modelBytes / MIB);
  const threads = workers * threadsPerWorker;
  return {
    cpuRequestMillis: 100 + 250 * threads,
    cpuLimitMillis: 500 + 1000 * threads,
    memoryMiB: roundUp(192 + workers * 3 * modelMiB, 64),
    cacheMiB: roundUp(3 * modelMiB + 64, 64),
  };
}

function roundUp(value: number, step: number): number {
  return Math.ceil(value / step) * step;
}
