import type { DecodeRequest, ImageCodec, ImageHeader, RgbImage } from '../preprocess/image-codec.js';

/**
 * An ImageCodec that ignores the bytes: its header says `header` (by default the fixed image's size) and it
 * returns fixed pixels (or waits on `gate`, or fails); it records requests.
 */
export class FakeImageCodec implements ImageCodec {
  readonly requests: DecodeRequest[] = [];
  gate: Promise<void> | undefined;
  error: Error | undefined;
  header: ImageHeader;

  constructor(private readonly image: RgbImage) {
    this.header = { format: 'png', width: image.width, height: image.height, hasAlpha: false };
  }

  probe(): Promise<ImageHeader> {
    return Promise.resolve(this.header);
  }

  async decode(request: DecodeRequest): Promise<RgbImage> {
    this.requests.push(request);
    if (this.gate !== undefined) await this.gate;
    if (this.error !== undefined) throw this.error;
    return this.image;
  }
}
