import { releaseBuffers } from '../../host/release-buffers.js';

/**
 * grpc-js's stream decoder joins each message's frame (a 1-byte compression flag, a 4-byte length, the message)
 * into a buffer of its own and hands the message on as a view past that prefix (a decompressed one comes in a
 * buffer of its own, at 0).
 */
const FRAME_PREFIX_BYTES = 5;

/**
 * A request message kept serialized: grpc-js hands it to the handler undecoded, so that the handler can
 * count what decoding would build (model-infer-scan.ts) before paying for it.
 */
export class RawMessage {
  constructor(readonly bytes: Buffer) {}

  /**
   * Frees the message's memory now rather than at V8's next full collection (release-buffers.ts: a 600 KB
   * tensor per request otherwise has the event loop mark its whole heap every ~50 requests). For the handler's
   * end only: BYTES elements decoded from the message are views into it. A buffer that holds anything but this
   * message and its frame prefix is left alone. Never throws.
   */
  release(): void {
    const { bytes } = this;
    const buffer = bytes.buffer;
    // Empty: nothing to free, or already moved to the decoder thread whole (a decompressed message).
    if (buffer.byteLength === 0) return;
    if (bytes.byteOffset <= FRAME_PREFIX_BYTES && bytes.byteOffset + bytes.byteLength === buffer.byteLength)
      releaseBuffers([new Uint8Array(buffer)]);
  }
}
