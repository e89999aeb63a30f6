import { createRequire } from 'node:module';

/**
 * libjpeg called from Node (jpeg-decode.c, built by build-addon.ts at `npm install`/`npm run build`). `decode`
 * fills `out` (width x height x components bytes: RGB, or grey for a one-component file) and answers true; false
 * when the file is not the size, component count or colour space given (leave it to libvips); it throws on
 * anything libjpeg reports, warnings included (code SKIFF_JPEG_DECODE). `decode` runs on the calling thread:
 * never on an event loop that serves requests, where `decodeAsync` runs it on libuv's thread pool instead (both
 * buffers left alone until it settles).
 */
export interface LibjpegDecoder {
  decode(jpeg: Buffer, out: Buffer, width: number, height: number, components: 1 | 3): boolean;
  decodeAsync(jpeg: Buffer, out: Buffer, width: number, height: number, components: 1 | 3): Promise<boolean>;
}

export type LibjpegLoad =
  | { readonly decoder: LibjpegDecoder; readonly reason?: undefined }
  | { readonly decoder?: undefined; readonly reason: string };

let loaded: LibjpegLoad | undefined;

/**
 * The addon, loaded once per thread; where it was not built (no C compiler or no libjpeg headers at install) or
 * cannot load (a base image without libjpeg beside it), the reason, and JPEGs stay with libvips.
 */
export function loadLibjpegDecoder(): LibjpegLoad {
  if (loaded !== undefined) return loaded;
  try {
    const addon = createRequire(import.meta.url)(ADDON) as Partial<LibjpegDecoder>;
    loaded =
      typeof addon.decode === 'function' && typeof addon.decodeAsync === 'function'
        ? { decoder: addon as LibjpegDecoder }
        : { reason: `${ADDON} does not export decode and decodeAsync` };
  } catch (error) {
    const notBuilt = (error as { code?: unknown }).code === 'MODULE_NOT_FOUND';
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    loaded = {
      reason: notBuilt
        ? `${ADDON} was not built: "npm run build" builds it where a C compiler and libjpeg's headers are installed`
        : `${ADDON} could not be loaded: ${detail ?? ''}`,
    };
  }
  return loaded;
}

/** Beside this module in dist/, where build-addon.js writes it. */
export const ADDON = './jpeg-decode.node';
