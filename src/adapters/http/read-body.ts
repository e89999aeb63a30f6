import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { SkiffError } from '../../core/errors.js';
import { REQUEST_TURNS } from '../turn-queue.js';
import { releaseBuffers } from '../../host/release-buffers.js';

/**
 * A binary-extension body read in two buffers: the JSON header, and the tensor bytes after it in an
 * ArrayBuffer of their own, so that a single input's bytes are its tensor as they arrived (aligned at 0,
 * movable to the model's worker) instead of being copied out of the body.
 */
export interface SplitBody {
  readonly header: Buffer;
  readonly binary: Buffer;
}

export function isSplitBody(body: unknown): body is SplitBody {
  return typeof body === 'object' && body !== null && 'binary' in body && 'header' in body;
}

/** The body as one Buffer whichever way it was read (a split one is joined: rare routes only). */
export function wholeBody(body: unknown): Buffer | undefined {
  if (Buffer.isBuffer(body)) return body;
  if (isSplitBody(body)) return Buffer.concat([body.header, body.binary]);
  return undefined;
}

function tooLarge(): SkiffError {
  return new SkiffError(
    'SKIFF_BODY_TOO_LARGE',
    'the request body is larger than the limit (--max-body-bytes)',
  );
}

function lengthMismatch(): SkiffError {
  return new SkiffError('SKIFF_BAD_REQUEST', 'the Content-Length header does not match the body');
}

/**
 * Reads a request body whole, counted against `limit` (--max-body-bytes) as it arrives; a Content-Length
 * above the limit is refused before a byte is read. Memory grows only with the bytes received: nothing is
 * allocated from what Content-Length claims, which costs a client nothing to claim. `splitAt` (the binary
 * extension's header length) copies the bytes from there on into a buffer of their own, in the one copy
 * that joins the chunks: on a 600 KB tensor body the old join-then-copy-aligned was a third of the bytes the
 * event loop allocated per request, and V8's full collections come in proportion.
 */
export function readBody(
  request: FastifyRequest,
  payload: Readable,
  limit: number,
  splitAt?: number,
): Promise<Buffer | SplitBody> {
  const declared = request.headers['content-length'];
  const length = declared === undefined ? NaN : Number(declared);
  if (length > limit) return Promise.reject(tooLarge());
  // Node's HTTP parser gives each read a Buffer of its own, which nothing but this function sees: once
  // copied (or refused) they are freed at once (release-buffers.ts). A decoded body's chunks may share
  // the inflater's buffers, so those are left to the collector.
  const ownChunks = payload === request.raw;
  return new Promise((resolve, reject) => {
    let received = 0;
    const chunks: Buffer[] = [];
    const release = (): void => {
      if (ownChunks) releaseBuffers(chunks);
      chunks.length = 0;
    };
    const stop = (): void => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onError);
    };
    const onData = (chunk: Buffer | string): void => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      received += bytes.length;
      const { receivedEncodedLength = 0 } = payload as Readable & { receivedEncodedLength?: number };
      if (received > limit || receivedEncodedLength > limit) {
        stop();
        chunks.push(bytes);
        release();
        reject(tooLarge());
        return;
      }
      chunks.push(bytes);
    };
    const onEnd = (): void => {
      stop();
      // One body per turn of the event loop (turn-queue.ts): a burst of uploads cannot hold it.
      REQUEST_TURNS.enqueue(complete);
    };
    const complete = (): void => {
      const { receivedEncodedLength } = payload as Readable & { receivedEncodedLength?: number };
      // What came over the wire is what Content-Length counts, inflated or not.
      if (!Number.isNaN(length) && (receivedEncodedLength ?? received) !== length) {
        release();
        reject(lengthMismatch());
        return;
      }
      if (splitAt === undefined || splitAt <= 0 || splitAt >= received) {
        // Always a copy: a chunk may be a view of a larger read buffer.
        resolve(Buffer.concat(chunks, received));
        release();
        return;
      }
      const header = Buffer.allocUnsafe(splitAt);
      const binary = Buffer.allocUnsafeSlow(received - splitAt);
      let at = 0;
      for (const chunk of chunks) {
        const inHeader = Math.max(0, Math.min(chunk.length, splitAt - at));
        if (inHeader > 0) chunk.copy(header, at, 0, inHeader);
        if (inHeader < chunk.length) chunk.copy(binary, at + inHeader - splitAt, inHeader);
        at += chunk.length;
      }
      release();
      resolve({ header, binary });
    };
    const onError = (error: Error & { statusCode?: number }): void => {
      stop();
      release();
      if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) error.statusCode = 400;
      reject(error);
    };
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
    payload.resume();
  });
}

/** A Fastify body parser that reads the whole body into one Buffer, within the route's bodyLimit. */
export function bufferedBody(request: FastifyRequest, payload: Readable): Promise<Buffer | SplitBody> {
  return readBody(request, payload, request.routeOptions.bodyLimit);
}
