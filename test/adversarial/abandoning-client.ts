import http2 from 'node:http2';
import net from 'node:net';
import { setImmediate as turn } from 'node:timers/promises';
import type { HttpPayload } from './inference-payloads.js';
import { requestHead } from './raw-http.js';

/**
 * A client that sends a request and leaves before any answer, in two steps so that many of them leave
 * together: `send` writes all of the request but its last byte and resolves once those bytes have left;
 * `leave` writes the last byte and hangs up at once. Whatever the server then runs for it is work for a
 * client that had left: the request was not complete until the moment it left.
 */
export interface AbandoningClient {
  leave(): Promise<void>;
}

/** HTTP/1.1 on a connection of its own: the last byte and the FIN go out together. */
export async function sendHttpThenLeave(baseUrl: string, payload: HttpPayload): Promise<AbandoningClient> {
  const bytes = Buffer.concat([
    requestHead('POST', payload.path, { ...payload.headers, 'Content-Length': String(payload.body.length) }),
    payload.body,
  ]);
  const socket = net.connect(Number(new URL(baseUrl).port), '127.0.0.1');
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  await new Promise<void>((resolve) => socket.write(bytes.subarray(0, -1), () => resolve()));
  return {
    leave: async () => {
      socket.end(bytes.subarray(-1), () => socket.destroy());
      await closed;
    },
  };
}

const SERVICE_PATH = '/inference.GRPCInferenceService';

/**
 * A gRPC call made by hand over an HTTP/2 connection of its own (grpc-js has no hook for "the request has
 * left"): it cancels (RST_STREAM) as soon as the last byte is out, so the cancellation follows the
 * message on the same connection.
 */
export async function sendGrpcThenLeave(
  port: number,
  method: string,
  message: Buffer,
): Promise<AbandoningClient> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  const stream = session.request({
    ':method': 'POST',
    ':path': `${SERVICE_PATH}/${method}`,
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  stream.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
  // Frames wait in nghttp2's queue for the server's flow-control window, then in the socket's buffer.
  const flushed = async (): Promise<void> => {
    while (!stream.closed && (session.state.outboundQueueSize ?? 0) + session.socket.writableLength > 0)
      await turn();
  };
  const frame = grpcFrame(message);
  await new Promise<void>((resolve) => stream.write(frame.subarray(0, -1), () => resolve()));
  await flushed();
  return {
    leave: async () => {
      await new Promise<void>((resolve) => stream.end(frame.subarray(-1), () => resolve()));
      await flushed();
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
      await closed;
      session.destroy();
    },
  };
}

/** A gRPC length-prefixed message: no compression, 4-byte big-endian length. */
function grpcFrame(message: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}
