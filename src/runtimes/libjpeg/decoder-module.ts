/**
 * Where the libjpeg image decoder lives, for an inference worker that imports it by URL
 * (WorkerInit.imageDecoderModule): the composition root names it without loading the addon, and the worker
 * imports neither it nor sharp statically.
 */
export const LIBJPEG_IMAGE_DECODER_MODULE = new URL('./libjpeg-image-decoder.js', import.meta.url).href;
