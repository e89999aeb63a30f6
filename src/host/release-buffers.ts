import { MessageChannel } from 'node:worker_threads';

/** Views smaller than this are left to the collector: the post costs more than their bytes would. */
const MIN_BYTES = 16 * 1024;

/**
 * A port whose other end is closed: what is posted to it goes nowhere, and the ArrayBuffers in its transfer
 * list are detached on the way (the HTML structured-clone rules, which Node follows) and freed with the
 * dropped message.
 */
const { port1: sink, port2 } = new MessageChannel();
port2.close();
sink.unref();

/**
 * Frees, now, the memory of views nothing will read again, instead of at V8's next full collection.
 * V8 counts the ArrayBuffer memory a thread allocates and starts a full mark of its whole heap for every
 * 64 MB of it: Node's HTTP parser copies each socket read into a Buffer of its own, dropped once copied into
 * the body, and with 600 KB tensor bodies the main thread marked its whole heap every ~45 requests, a fifth
 * of its CPU. A detached buffer no longer counts. Only views that are the whole of a plain ArrayBuffer are
 * released: detaching a buffer that other views share would empty them, so the caller must hold the only
 * reference to each view's memory. Never throws.
 */
export function releaseBuffers(views: readonly ArrayBufferView[]): void {
  const buffers = new Set<ArrayBuffer>();
  for (const view of views) {
    const buffer = view.buffer;
    if (
      buffer instanceof ArrayBuffer &&
      view.byteOffset === 0 &&
      view.byteLength === buffer.byteLength &&
      buffer.byteLength >= MIN_BYTES
    )
      buffers.add(buffer);
  }
  if (buffers.size === 0) return;
  try {
    sink.postMessage(null, [...buffers]);
  } catch {
    // A buffer that cannot be transferred (already detached, or not detachable) is left to the collector.
  }
}
