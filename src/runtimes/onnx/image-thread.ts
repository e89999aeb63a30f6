// Runs in the inference worker: its image thread (image-prep-worker.ts), which decodes and packs its uploads.
import { Worker } from 'node:worker_threads';
import type { EncodedImage } from '../../core/model/runtime.js';
import type { ImageInputContract } from '../../core/model/model-config.js';
import type { FromImageThread, PackedData, ToImageThread, WireTensor } from './worker-messages.js';
import type { Prepared } from './decode-upload.js';

/**
 * The image thread's JavaScript heap for short-lived objects. Left to V8's default it grew to about 30 MB
 * (the RSS of a ResNet50 server after the bench's photos rose from 316 to 347-352 MiB); the thread's live
 * objects are a few KB, so a small one costs only more frequent, near-empty scavenges (at 2 MB: 319 MiB).
 */
const YOUNG_GENERATION_MB = 2;

/**
 * The inference worker's side of its image thread. The thread lives and dies with the worker: should it end on
 * its own (it never should), `onLost` is told, and the worker ends too, so that the pool replaces both and the
 * jobs they held fail as a crash's do.
 */
export class ImageThread {
  private readonly pending = new Map<number, (prepared: Prepared) => void>();

  private constructor(
    private readonly thread: Worker,
    onLost: (why: string) => void,
  ) {
    thread.on('message', (message: FromImageThread) => {
      if (message.kind !== 'prepared' && message.kind !== 'failed') return;
      const settle = this.pending.get(message.id);
      this.pending.delete(message.id);
      settle?.(message.kind === 'prepared' ? { tensor: message.tensor } : { failure: message });
    });
    thread.on('error', (error) => onLost(`its image thread failed: ${error.message}`));
    thread.on('exit', (code) => onLost(`its image thread ended (exit code ${String(code)})`));
  }

  /** Starts the thread; resolves once its codec has loaded. */
  static start(codecModule: string, onLost: (why: string) => void): Promise<ImageThread> {
    const thread = new Worker(new URL('./image-prep-worker.js', import.meta.url), {
      workerData: { imageCodecModule: codecModule },
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    return new Promise((resolve, reject) => {
      const early = (error: Error): void => reject(error);
      const exited = (code: number): void =>
        reject(new Error(`the image thread ended while loading (${code})`));
      thread.once('error', early);
      thread.once('exit', exited);
      thread.once('message', (message: FromImageThread) => {
        thread.off('error', early);
        thread.off('exit', exited);
        if (message.kind === 'ready') resolve(new ImageThread(thread, onLost));
        else {
          void thread.terminate();
          reject(
            new Error(message.kind === 'load-failed' ? message.message : 'the image thread did not start'),
          );
        }
      });
    });
  }

  /** Job `id`'s upload, decoded and packed; its bytes move to the image thread. */
  prepare(id: number, image: EncodedImage, input: ImageInputContract): Promise<Prepared> {
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      const message: ToImageThread = { kind: 'prepare', id, image, input };
      const { bytes } = image;
      const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      this.thread.postMessage(message, owned ? [bytes.buffer as ArrayBuffer] : []);
    });
  }

  /** A packed input that has been run (or will not be), back to the thread to be packed into again. */
  giveBack(tensor: WireTensor): void {
    const data = tensor.data as PackedData;
    const message: ToImageThread = { kind: 'give-back', data };
    this.thread.postMessage(message, [data.buffer as ArrayBuffer]);
  }
}
