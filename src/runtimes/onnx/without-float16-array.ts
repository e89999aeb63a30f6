/**
 * Hides Float16Array from onnxruntime-common in this thread. Where the global exists (Node 26), ORT wraps
 * float16 data in it, and onnxruntime-node's addon (N-API has no Float16Array type) then reads it as zero
 * bytes: "not enough space: expected N, got 0". Without it ORT keeps float16 as Uint16Array, which is how
 * Skiff holds FP16 anyway. ORT looks for the global lazily, at its first tensor, so this module only has to
 * run before any tensor is made; importing it before onnxruntime-node makes that plain.
 */
const globals = globalThis as { Float16Array?: unknown };
if (globals.Float16Array !== undefined) {
  Object.defineProperty(globalThis, 'Float16Array', { value: undefined, configurable: true, writable: true });
}
