// Runs in an inference worker and its image thread: uploads decoded and packed into the model's input.
import type {
  DecodeRequest,
  ImageCodec,
  RgbImage,
  SyncImageDecoder,
} from '../../core/preprocess/image-codec.js';
import type { ImageInputContract } from '../../core/model/model-config.js';
import type { EncodedImage } from '../../core/model/runtime.js';
import type { Tensor } from '../../core/tensor/tensor.js';
import type { JobFailure, PackedData, WireTensor } from './worker-messages.js';
import { badTensor } from './worker-messages.js';
import { imagesToTensor } from '../../core/preprocess/image-to-tensor.js';
import { SkiffError } from '../../core/errors.js';

/** An upload packed as the model's input, or the answer its job gets instead. */
export type Prepared = { readonly tensor: WireTensor } | { readonly failure: JobFailure };

/**
 * Job `id`'s upload decoded by `codec` and packed, into the buffer `reuse` gives when it fits (see packUpload);
 * never rejects.
 */
export async function prepareUpload(
  codec: ImageCodec,
  id: number,
  image: EncodedImage,
  input: ImageInputContract,
  reuse: () => PackedData | undefined,
): Promise<Prepared> {
  let decoded: RgbImage;
  try {
    decoded = await codec.decode(decodeRequest(image, input));
  } catch (error) {
    return { failure: decodeFailure(id, error) };
  }
  return packed(id, decoded, input, reuse);
}

/**
 * The same, synchronously on this thread, for an upload `decoder` has a fast path for; undefined for the others,
 * left to an ImageCodec.
 */
export function prepareUploadHere(
  decoder: SyncImageDecoder,
  id: number,
  image: EncodedImage,
  input: ImageInputContract,
  reuse: () => PackedData | undefined,
): Prepared | undefined {
  let decoded: RgbImage | undefined;
  try {
    decoded = decoder.decode(decodeRequest(image, input));
  } catch (error) {
    return { failure: decodeFailure(id, error) };
  }
  return decoded === undefined ? undefined : packed(id, decoded, input, reuse);
}

function decodeRequest(image: EncodedImage, input: ImageInputContract): DecodeRequest {
  return {
    bytes: image.bytes,
    header: image.header,
    width: input.width,
    height: input.height,
    resizeMode: input.resizeMode,
    resizeShorterSide: input.resizeShorterSide,
    maxPixels: image.maxPixels,
  };
}

function packed(
  id: number,
  image: RgbImage,
  input: ImageInputContract,
  reuse: () => PackedData | undefined,
): Prepared {
  try {
    const tensor = packUpload(image, input, reuse());
    return { tensor: { type: tensor.type, shape: tensor.shape, data: tensor.data } };
  } catch {
    return { failure: badTensor(id) };
  }
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

/** The same for a SyncImageDecoder's module; undefined too where that decoder is not available. */
export async function loadSyncDecoder(module: string | undefined): Promise<SyncImageDecoder | undefined> {
  if (module === undefined) return undefined;
  const imported = (await import(module)) as { createSyncImageDecoder: () => SyncImageDecoder | undefined };
  return imported.createSyncImageDecoder();
}
