import { Transform } from 'node:stream';
import type { Readable, TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { SkiffError } from '../../core/errors.js';

/** What Fastify reads instead of the request: the inflated body, with the bytes received counted. */
type DecodedStream = Transform & { receivedEncodedLength: number };

/**
 * Request bodies sent with `Content-Encoding: gzip` or `deflate` (tritonclient's
 * request_compression_algorithm) are inflated before the routes see them. --max-body-bytes bounds both the
 * bytes received and the bytes inflated: inflating stops as soon as the output passes the limit, so a
 * small body that would inflate to gigabytes costs no more than the limit (413 SKIFF_BODY_TOO_LARGE).
 * Other encodings are 415; a corrupt stream is 400.
 */
export function installContentDecoding(app: FastifyInstance, maxBodyBytes: number): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    const header = request.headers['content-encoding'];
    if (header === undefined) return payload;
    const encoding = header.trim().toLowerCase();
    if (encoding === '' || encoding === 'identity') return payload;
    const inflater =
      encoding === 'gzip' || encoding === 'x-gzip'
        ? zlib.createGunzip()
        : encoding === 'deflate'
          ? zlib.createInflate()
          : undefined;
    if (inflater === undefined) {
      throw new SkiffError(
        'SKIFF_UNSUPPORTED_MEDIA_TYPE',
        `Content-Encoding "${header}" is not supported; send the body as it is, or with gzip or deflate`,
      );
    }
    return inflate(payload, inflater, maxBodyBytes, encoding);
  });
}

function inflate(
  payload: Readable,
  inflater: zlib.Zlib & Transform,
  limit: number,
  encoding: string,
): DecodedStream {
  let inflated = 0;
  const out = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      inflated += chunk.length;
      if (inflated > limit) {
        // Stop the inflater now: nothing more of this body is worth producing.
        inflater.destroy();
        callback(
          new SkiffError(
            'SKIFF_BODY_TOO_LARGE',
            `the request body inflates to more than the limit of ${limit} bytes (--max-body-bytes)`,
          ),
        );
        return;
      }
      callback(null, chunk);
    },
  }) as DecodedStream;
  // Fastify compares what arrived on the wire with Content-Length, not the inflated size.
  out.receivedEncodedLength = 0;
  payload.on('data', (chunk: Buffer) => {
    out.receivedEncodedLength += chunk.length;
  });
  payload.on('error', (error) => out.destroy(error));
  inflater.on('error', () => {
    out.destroy(new SkiffError('SKIFF_BAD_REQUEST', `the request body is not valid ${encoding} data`));
  });
  payload.pipe(inflater).pipe(out);
  return out;
}
