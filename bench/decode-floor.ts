import { SharpImageCodec } from '../src/runtimes/sharp/sharp-image-codec.js';
import { prepareUpload } from '../src/runtimes/onnx/decode-upload.js';
import { resolveImageContract } from '../src/core/model/resolve-image-contract.js';
import { latencyStats } from '../src/stats/latency-stats.js';
import { loadLibjpegDecoder } from '../src/runtimes/libjpeg/libjpeg-decoder.js';

/** What preparing one upload costs on its own: the part of a /predict request no server can skip. */
export interface DecodeFigure {
  readonly images: number;
  readonly p50Ms: number;
  /** Every thread of this process: libuv's and libvips' included, where the decoding runs. */
  readonly cpuMsPerImage: number;
}

/**
 * The photo decoded, resized, cropped and packed into a ResNet-style input (224x224 FP32 NCHW, ImageNet
 * normalisation, the contract Skiff resolves for such a model) one after another, with the codec and the
 * packing the server's workers use. Beside the engine alone, this is the floor of a /predict request: a
 * server at engine + decode has nothing left to cut but the decoder itself.
 */
export async function measureDecode(
  bytes: Buffer,
  durationMs: number,
  /** 'worker': as an image thread decodes (the libjpeg addon for the JPEGs it resizes, where built). */
  decoder: 'worker' | 'libvips' = 'worker',
): Promise<DecodeFigure> {
  const resolved = resolveImageContract(
    [{ name: 'input', type: 'FP32', shape: [1, 3, 224, 224] }],
    [{ name: 'output', type: 'FP32', shape: [1, 1000] }],
    {},
    undefined,
  );
  if (!resolved.ok) throw new Error(resolved.reason);
  const input = resolved.contract.input;
  const codec = new SharpImageCodec(decoder === 'worker' ? loadLibjpegDecoder().decoder : undefined, true);
  const one = async (): Promise<void> => {
    const header = await codec.probe(bytes);
    const image = { bytes, header, maxPixels: 100_000_000 };
    const prepared = await prepareUpload(codec, 0, image, input, () => undefined);
    if ('failure' in prepared)
      throw new Error(`the bench photo did not decode: ${JSON.stringify(prepared.failure)}`);
  };
  for (let i = 0; i < 20; i++) await one();
  const times: number[] = [];
  const cpu = process.cpuUsage();
  const deadline = performance.now() + durationMs;
  do {
    const started = performance.now();
    await one();
    times.push(performance.now() - started);
  } while (performance.now() < deadline);
  const used = process.cpuUsage(cpu);
  return {
    images: times.length,
    p50Ms: latencyStats(times).p50Ms,
    cpuMsPerImage: (used.user + used.system) / 1000 / times.length,
  };
}
