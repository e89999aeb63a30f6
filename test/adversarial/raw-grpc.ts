import http2 from 'node:http2';

const SERVICE_PATH = '/inference.GRPCInferenceService';
/** After the last byte is written, how long an abandoning client waits for the call to start at most. */
const GIVE_UP_MS = 50;

/**
 * gRPC calls made by hand over HTTP/2, so that a call can be cancelled at a chosen moment: when the server
 * has shown it started the call (Skiff sends the response headers first), else just after the message was
 * written. grpc-js offers no hook for either.
 */
export class RawGrpcSession {
  private readonly session: http2.ClientHttp2Session;

  constructor(port: number) {
    this.session = http2.connect(`http://127.0.0.1:${port}`);
    this.session.on('error', () => undefined);
  }

  /** Sends `message` (an encoded request) to `method` and cancels the call; resolves once it is closed. */
  abandon(method: string, message: Buffer): Promise<void> {
    const stream = this.session.request({
      ':method': 'POST',
      ':path': `${SERVICE_PATH}/${method}`,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const cancel = (): void => {
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    };
    stream.on('response', cancel);
    stream.on('error', () => undefined);
    stream.end(grpcFrame(message), () => setTimeout(cancel, GIVE_UP_MS));
    return new Promise((resolve) => stream.once('close', resolve));
  }

  close(): void {
    this.session.close();
  }
}

/** A gRPC length-prefixed message: no compression, 4-byte big-endian length. */
export function grpcFrame(message: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}
