import type { Server } from '@grpc/grpc-js';
import type { Http2Server, Http2Session, Settings } from 'node:http2';

/**
 * Flow-control window, in bytes, of each gRPC stream and of each connection. HTTP/2 starts both at
 * 64 KiB, so a client could send a 602 KB ResNet50 tensor only 64 KiB at a time, each slice waiting
 * for our WINDOW_UPDATE: by hand (c=1, 600 calls, 3 rounds), main-thread CPU per call 2.9-3.1 -> 1.8-2.2 ms
 * and latency 13.6-16.0 -> 10.3-13.0 ms with 1 MiB. What a client can make us hold hardly moves:
 * grpc-js reads a stream as it arrives, a whole message (up to `--max-body-bytes`) before it looks
 * at it, and pauses a stream only between two messages, when at most this many bytes wait unread.
 */
export const GRPC_FLOW_WINDOW_BYTES = 1 << 20;

/** The parts of grpc-js's Server this reaches into: it has no option for either window. */
interface ServerInternals {
  commonServerOptions?: { settings?: Settings };
  http2Servers?: Map<Http2Server, unknown>;
}

/**
 * Sets the stream window (the SETTINGS grpc-js's HTTP/2 servers send) before `bindAsync`, and returns
 * the step that sets each new connection's window, to run once bound. Either returns false when
 * grpc-js no longer has the field it uses, so that the server still runs, at HTTP/2's default.
 */
export function widenFlowWindows(
  server: Server,
  bytes: number,
): { readonly streams: boolean; afterBind(): boolean } {
  const internals = server as unknown as ServerInternals;
  const options = internals.commonServerOptions;
  const streams = typeof options === 'object';
  if (streams) options.settings = { ...options.settings, initialWindowSize: bytes };
  return {
    streams,
    afterBind(): boolean {
      const servers = internals.http2Servers;
      if (!(servers instanceof Map) || servers.size === 0) return false;
      for (const http2Server of servers.keys()) {
        http2Server.on('session', (session: Http2Session) => {
          // Throws only for a session already destroyed, which has nothing left to receive.
          try {
            session.setLocalWindowSize(bytes);
          } catch {
            return;
          }
        });
      }
      return true;
    },
  };
}
