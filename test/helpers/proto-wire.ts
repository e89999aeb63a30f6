// Protocol buffers by field number, written and read by hand: the gRPC conformance tests speak to Skiff
// the way a client generated from Triton's or KServe's own .proto does, without Skiff's .proto, so a
// field number that drifted from theirs fails the test instead of agreeing with itself.
import { Metadata, credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';

/** A field to write: a string, bytes, a varint (number, bigint, boolean), a fixed32 float, a double, or a message. */
export type WireValue =
  | string
  | Uint8Array
  | number
  | bigint
  | boolean
  | { readonly float: number }
  | { readonly double: number }
  | { readonly packed: readonly (number | bigint | boolean)[] }
  | { readonly packedFloat: readonly number[] }
  | { readonly packedDouble: readonly number[] }
  | readonly WireField[];
export type WireField = readonly [number, WireValue];

function varint(value: bigint): Buffer {
  // Negative int64 values are written as their two's complement in 64 bits (ten bytes).
  let rest = BigInt.asUintN(64, value);
  const bytes: number[] = [];
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return Buffer.from(bytes);
}

function isFields(value: WireValue): value is readonly WireField[] {
  return Array.isArray(value);
}

const key = (field: number, wire: number): Buffer => varint(BigInt((field << 3) | wire));
const delimited = (field: number, payload: Buffer): Buffer =>
  Buffer.concat([key(field, 2), varint(BigInt(payload.length)), payload]);

/** Encodes fields in the order given (repeated fields: the same number several times). */
export function encode(fields: readonly WireField[]): Buffer {
  return Buffer.concat(
    fields.map(([field, value]) => {
      if (typeof value === 'string') return delimited(field, Buffer.from(value, 'utf8'));
      if (value instanceof Uint8Array) return delimited(field, Buffer.from(value));
      if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
        return Buffer.concat([key(field, 0), varint(BigInt(value))]);
      if (isFields(value)) return delimited(field, encode(value));
      if ('float' in value) {
        const out = Buffer.alloc(4);
        out.writeFloatLE(value.float);
        return Buffer.concat([key(field, 5), out]);
      }
      if ('double' in value) {
        const out = Buffer.alloc(8);
        out.writeDoubleLE(value.double);
        return Buffer.concat([key(field, 1), out]);
      }
      if ('packed' in value)
        return delimited(field, Buffer.concat(value.packed.map((v) => varint(BigInt(v)))));
      if ('packedFloat' in value) {
        const out = Buffer.alloc(value.packedFloat.length * 4);
        value.packedFloat.forEach((v, i) => out.writeFloatLE(v, i * 4));
        return delimited(field, out);
      }
      const out = Buffer.alloc(value.packedDouble.length * 8);
      value.packedDouble.forEach((v, i) => out.writeDoubleLE(v, i * 8));
      return delimited(field, out);
    }),
  );
}

/** A decoded message: each field number with its values in order (varints as bigint, the rest as bytes). */
export class WireMessage {
  constructor(readonly fields: ReadonlyMap<number, readonly (bigint | Buffer)[]>) {}

  static decode(bytes: Uint8Array): WireMessage {
    const fields = new Map<number, (bigint | Buffer)[]>();
    const buffer = Buffer.from(bytes);
    let at = 0;
    const readVarint = (): bigint => {
      let value = 0n;
      let shift = 0n;
      for (;;) {
        const byte = buffer[at++];
        if (byte === undefined) throw new Error('truncated varint');
        value |= BigInt(byte & 0x7f) << shift;
        if (byte < 0x80) return value;
        shift += 7n;
      }
    };
    while (at < buffer.length) {
      const k = readVarint();
      const field = Number(k >> 3n);
      const wire = Number(k & 7n);
      let value: bigint | Buffer;
      if (wire === 0) value = readVarint();
      else if (wire === 2) {
        const length = Number(readVarint());
        value = buffer.subarray(at, at + length);
        at += length;
      } else if (wire === 1 || wire === 5) {
        const width = wire === 1 ? 8 : 4;
        value = buffer.subarray(at, at + width);
        at += width;
      } else throw new Error(`wire type ${wire}`);
      fields.set(field, [...(fields.get(field) ?? []), value]);
    }
    return new WireMessage(fields);
  }

  private all(field: number): readonly (bigint | Buffer)[] {
    return this.fields.get(field) ?? [];
  }

  /** The field numbers present, sorted: what a test compares with the official .proto. */
  numbers(): number[] {
    return [...this.fields.keys()].sort((a, b) => a - b);
  }

  string(field: number): string {
    const value = this.all(field).at(-1);
    return Buffer.isBuffer(value) ? value.toString('utf8') : '';
  }

  strings(field: number): string[] {
    return this.all(field).map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : ''));
  }

  bytes(field: number): Buffer[] {
    return this.all(field).filter((v): v is Buffer => Buffer.isBuffer(v));
  }

  /** A varint field (0 when absent, as proto3 reads it); `signed` reads int64 two's complement. */
  int(field: number, signed = false): bigint {
    const value = this.all(field).at(-1);
    const raw = typeof value === 'bigint' ? value : 0n;
    return signed ? BigInt.asIntN(64, raw) : raw;
  }

  /** A repeated varint field, packed or not. */
  ints(field: number, signed = false): bigint[] {
    const out: bigint[] = [];
    for (const value of this.all(field)) {
      if (typeof value === 'bigint') out.push(value);
      else {
        let at = 0;
        while (at < value.length) {
          let v = 0n;
          let shift = 0n;
          for (;;) {
            const byte = value[at++] ?? 0;
            v |= BigInt(byte & 0x7f) << shift;
            if (byte < 0x80) break;
            shift += 7n;
          }
          out.push(v);
        }
      }
    }
    return signed ? out.map((v) => BigInt.asIntN(64, v)) : out;
  }

  message(field: number): WireMessage {
    const value = this.all(field).at(-1);
    return WireMessage.decode(Buffer.isBuffer(value) ? value : Buffer.alloc(0));
  }

  messages(field: number): WireMessage[] {
    return this.bytes(field).map((b) => WireMessage.decode(b));
  }
}

/**
 * Calls `/inference.GRPCInferenceService/<method>` with bytes in and bytes out, as any generated stub does
 * on the wire. Resolves with the decoded answer, or rejects with the ServiceError.
 */
export function wireClient(port: number): {
  call(method: string, fields: readonly WireField[]): Promise<WireMessage>;
  fail(method: string, fields: readonly WireField[]): Promise<ServiceError>;
  close(): void;
} {
  const identity = (bytes: Buffer): Buffer => bytes;
  const Client = makeGenericClientConstructor({}, 'inference.GRPCInferenceService');
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  const call = (method: string, fields: readonly WireField[]): Promise<WireMessage> =>
    new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        `/inference.GRPCInferenceService/${method}`,
        identity,
        identity,
        encode(fields),
        new Metadata(),
        {},
        (error, response) => {
          if (error !== null) reject(error);
          else resolve(WireMessage.decode(response ?? Buffer.alloc(0)));
        },
      );
    });
  return {
    call,
    fail: (method, fields) =>
      call(method, fields).then(
        () => {
          throw new Error(`${method} succeeded but was expected to fail`);
        },
        (error: unknown) => error as ServiceError,
      ),
    close: () => client.close(),
  };
}
