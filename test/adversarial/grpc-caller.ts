import { Client, Metadata, credentials, status as Status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { MethodDefinition } from '@grpc/proto-loader';
import { PROTO_LOADER_OPTIONS, inferenceProtoPath } from '../../src/adapters/grpc/inference-proto.js';
import type { Answer } from './http-answer.js';
import { NO_ANSWER } from './http-answer.js';

const SERVICE = 'inference.GRPCInferenceService';

export interface GrpcCallOptions {
  readonly timeoutMs: number;
  /** Metadata sent with the call (authorization, x-request-id). */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Cancels the call this long after it started, and resolves then without an answer. */
  readonly cancelAfterMs?: number;
}

export interface GrpcAnswer extends Answer {
  /** Trailing metadata as text, for leak checks. */
  readonly trailers: string;
  /** The encoded response message of an OK answer. */
  readonly response?: Buffer;
}

/**
 * A raw client of Skiff's gRPC service: requests are encoded with the server's own .proto (or sent as bytes
 * already encoded, for messages too large to build as objects), answers kept as their status and size.
 */
export class GrpcCaller {
  private readonly client: Client;
  private readonly methods: Record<string, MethodDefinition<object, object>>;

  constructor(port: number) {
    const definition = loadSync(inferenceProtoPath(), PROTO_LOADER_OPTIONS);
    this.methods = definition[SERVICE] as unknown as Record<string, MethodDefinition<object, object>>;
    this.client = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
    });
  }

  encode(method: string, request: object): Buffer {
    return this.method(method).requestSerialize(request);
  }

  /** Never rejects; a cancelled call resolves with code "cancelled by the client". */
  call(method: string, request: object | Buffer, options: GrpcCallOptions): Promise<GrpcAnswer> {
    const definition = this.method(method);
    const bytes = Buffer.isBuffer(request) ? request : definition.requestSerialize(request);
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(options.metadata ?? {})) metadata.set(key, value);
    const started = performance.now();
    return new Promise((resolve) => {
      let trailers = '';
      let settled = false;
      const settle = (
        answer: Omit<GrpcAnswer, 'ms' | 'protocol' | 'trailers'> & { response?: Buffer },
      ): void => {
        if (settled) return;
        settled = true;
        resolve({ ...answer, protocol: 'grpc', ms: performance.now() - started, trailers });
      };
      const call = this.client.makeUnaryRequest(
        definition.path,
        (message: Buffer) => message,
        (message: Buffer) => message,
        bytes,
        metadata,
        { deadline: Date.now() + options.timeoutMs },
        (error: ServiceError | null, response?: Buffer) => {
          if (error === null) {
            ok = response ?? Buffer.alloc(0);
            settleOk();
            return;
          }
          trailers = JSON.stringify(error.metadata.toJSON());
          settle({ code: Status[error.code], text: error.details, bytes: 0 });
        },
      );
      // A success's trailers come with the status, which may follow the callback: it waits for both.
      let ok: Buffer | undefined;
      let statusSeen = false;
      const settleOk = (): void => {
        if (ok !== undefined && statusSeen) settle({ code: 'OK', text: '', bytes: ok.length, response: ok });
      };
      call.on('status', (status) => {
        trailers = JSON.stringify(status.metadata.toJSON());
        statusSeen = true;
        settleOk();
      });
      if (options.cancelAfterMs !== undefined) {
        setTimeout(() => {
          call.cancel();
          settle({ code: `${NO_ANSWER}: cancelled by the client`, text: '', bytes: 0 });
        }, options.cancelAfterMs);
      }
    });
  }

  close(): void {
    this.client.close();
  }

  private method(name: string): MethodDefinition<object, object> {
    const definition = this.methods[name];
    if (definition === undefined) throw new Error(`no gRPC method ${name}`);
    return definition;
  }
}
