/**
 * Where the sharp codec lives, for a worker thread that imports it by URL (WorkerInit.imageCodecModule): the
 * composition root names it without loading sharp itself.
 */
export const SHARP_CODEC_MODULE = new URL('./sharp-image-codec.js', import.meta.url).href;
