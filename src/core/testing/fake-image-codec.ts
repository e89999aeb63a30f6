import type { DecodeRequest, ImageCodec, RgbImage } from '../preprocess/image-codec.js';

/** An ImageCodec that ignores the bytes and returns fixed pixels (or waits on `gate`, or fails); it records requests. */
export class FakeImageCodec implements ImageCodec {
  readonly requests: DecodeRequest[] = [];
  gate: Promise<void> | undefined;
  error: Error | undefined;

  constructor(private readonly image: RgbImage) {}

  async decode(request: DecodeRequest): Promise<RgbImage> {
    this.requests.push(request);
    if (this.gate !== undefined) await this.gate;
    if (this.error !== undefined) throw this.error;
    return this.image;
  }
}
