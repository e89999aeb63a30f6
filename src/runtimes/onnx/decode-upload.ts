// Runs in an inference worker's image thread: uploads decoded with its codec and packed into the model's input.
import type { DecodeRequest, ImageCodec, RgbImage } from '../../core/preprocess/image-codec.js';
import type { ImageInputContract } from '../../core/model/model-config.js';
import type { EncodedImage } from '../../core/model/runtime.js';
import type { Tensor } from '../../core/tensor/tensor.js';
import type { JobFailure, PackedData } from './worker-messages.js';
import { imagesToTensor } from '../../core/preprocess/image-to-tensor.js';
import { SkiffError } from '../../core/errors.js';

/** An upload's pixels, or the answer its job gets instead. */
export type Decoded = { readonly image: RgbImage } | { readonly failure: JobFailure };

/** Decodes job `id`'s upload at `input`'s size; never rejects: a failure comes back as the job's answer. */
export function decodeUpload(
  codec: ImageCodec,
  id: number,
  image: EncodedImage,
  input: ImageInputContract,
): Promise<Decoded> {
  const request: DecodeRequest = {
    bytes: image.bytes,
    header: image.header,
    width: input.width,
    height: input.height,
    resizeMode: input.resizeMode,
    resizeShorterSide: input.resizeShorterSide,
    maxPixels: image.maxPixels,
  };
  return codec.decode(request).then(
    (decoded) => ({ image: decoded }),
    (error: unknown) => ({ failure: decodeFailure(id, error) }),
  );
}

/** The codec's own SkiffErrors (undecodable, too large) carry words written for the client; others do not. */
function decodeFailure(id: number, error: unknown): JobFailure {
  return error instanceof SkiffError
    ? { kind: 'failed', id, code: error.code, message: error.message }
    : { kind: 'failed', id, code: 'SKIFF_UNDECODABLE_IMAGE', message: 'the image could not be decoded' };
}

let lastContract: { key: string; contract: ImageInputContract } | undefined;

/**
 * A decoded upload as the model's input, packed into `reuse` when it has the type and length needed (a ResNet50
 * input is 588 KiB: allocating one per request kept V8's collector busy), else into a buffer of its own.
 */
export function packUpload(
  image: RgbImage,
  input: ImageInputContract,
  reuse: PackedData | undefined,
): Tensor {
  return imagesToTensor([image], sameContract(input), reuse);
}

/** The same contract object job after job, so the packing tables built for it are found again. */
function sameContract(contract: ImageInputContract): ImageInputContract {
  const key = JSON.stringify(contract);
  if (lastContract?.key !== key) lastContract = { key, contract };
  return lastContract.contract;
}

/** The codec module named by the composition root (imported here, so the main thread never waits for it). */
export async function loadCodec(module: string | undefined): Promise<ImageCodec | undefined> {
  if (module === undefined) return undefined;
  const imported = (await import(module)) as { createImageCodec: () => ImageCodec };
  return imported.createImageCodec();
}
