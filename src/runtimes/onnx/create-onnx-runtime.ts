import type { Logger } from '../../core/logger.js';
import { OnnxRuntime } from './onnx-runtime.js';
import { optimizedGraphDir } from './optimized-graph-cache.js';
import { SHARP_CODEC_MODULE } from '../sharp/codec-module.js';
import { loadLibjpegDecoder } from '../libjpeg/libjpeg-decoder.js';
import { LIBJPEG_IMAGE_DECODER_MODULE } from '../libjpeg/decoder-module.js';

export interface OnnxRuntimeSettings {
  readonly logger: Logger;
  /** Skiff's cache folder; with `graphCache`, optimized graphs are kept under it. */
  readonly cacheDir?: string | undefined;
  /** `--graph-cache`: keep ONNX Runtime's optimized graph of each model (optimized-graph-cache.ts). */
  readonly graphCache?: boolean | undefined;
  /** The workers decode uploads themselves, with sharp (LoadedModel.inferImage); only a server needs it. */
  readonly decodeImages?: boolean | undefined;
}

/**
 * The one place an OnnxRuntime is made for Skiff's commands (`serve`, `models`). Importing this module loads
 * no addon: the workers load onnxruntime-node, and sharp when they decode. A runtime that decodes loads the
 * small libjpeg addon here once, to say so when it cannot load (the image threads load the same file).
 */
export function createOnnxRuntime(settings: OnnxRuntimeSettings): OnnxRuntime {
  const { cacheDir, graphCache } = settings;
  if (settings.decodeImages === true) {
    const { reason } = loadLibjpegDecoder();
    // docs/operations.md: the fallback costs about 3 ms more CPU per JPEG upload.
    if (reason !== undefined)
      settings.logger.info('JPEG uploads are decoded by libvips: the libjpeg addon is not available', {
        reason,
      });
  }
  return new OnnxRuntime(settings.logger, {
    optimizedGraphDir:
      graphCache === true && cacheDir !== undefined ? optimizedGraphDir(cacheDir) : undefined,
    imageCodecModule: settings.decodeImages === true ? SHARP_CODEC_MODULE : undefined,
    imageDecoderModule: settings.decodeImages === true ? LIBJPEG_IMAGE_DECODER_MODULE : undefined,
  });
}
