// One [2,3] sample per datatype for the conformance tests, chosen at each type's edges (64-bit values
// past 2^53 included), with the raw little-endian layout of the binary extension and gRPC's raw contents.
import { float16ToNumber, numberToFloat16 } from '../../src/core/tensor/tensor.js';

export type SampleValue = boolean | number | bigint | string;

export interface Sample {
  readonly datatype: string;
  /** As a client sends them. */
  readonly values: readonly SampleValue[];
  /** As they come back from an identity model (FP32 rounded to float). */
  readonly expected: readonly SampleValue[];
}

const sample = (datatype: string, values: readonly SampleValue[], expected = values): Sample => ({
  datatype,
  values,
  expected,
});

const FP32 = [0, 1.5, -2.25, 3.0e38, -1e-3, 7];

export const SAMPLES = {
  bool: sample('BOOL', [true, false, true, false, false, true]),
  uint8: sample('UINT8', [0, 1, 2, 127, 128, 255]),
  uint16: sample('UINT16', [0, 1, 65535, 300, 4, 5]),
  uint32: sample('UINT32', [0, 1, 4294967295, 7, 8, 9]),
  uint64: sample('UINT64', [0n, 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 64n - 1n, 5n]),
  int8: sample('INT8', [-128, -1, 0, 1, 126, 127]),
  int16: sample('INT16', [-32768, -1, 0, 1, 2, 32767]),
  int32: sample('INT32', [-2147483648, -1, 0, 1, 2, 2147483647]),
  int64: sample('INT64', [-(2n ** 63n), -(2n ** 53n) - 1n, 0n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n]),
  float16: sample('FP16', [0, 1, -2, 0.5, 65504, -0.25]),
  float32: sample('FP32', FP32, FP32.map(Math.fround)),
  float64: sample('FP64', [0, Math.PI, -Math.E, 1e300, -1e-300, 42]),
  string: sample('BYTES', ['', 'a', 'héllo', 'x y', '🙂', 'last']),
} as const satisfies Record<string, Sample>;

const WIDTH: Record<string, number> = {
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  FP16: 2,
  UINT32: 4,
  INT32: 4,
  FP32: 4,
  UINT64: 8,
  INT64: 8,
  FP64: 8,
};

/** Little-endian, row-major; BYTES elements each after a 4-byte little-endian length. */
export function encodeRaw(datatype: string, values: readonly SampleValue[]): Buffer {
  if (datatype === 'BYTES') {
    return Buffer.concat(
      values.map((v) => {
        const bytes = Buffer.from(String(v), 'utf8');
        const length = Buffer.alloc(4);
        length.writeUInt32LE(bytes.length);
        return Buffer.concat([length, bytes]);
      }),
    );
  }
  const width = WIDTH[datatype] ?? 0;
  const out = Buffer.alloc(values.length * width);
  values.forEach((v, i) => {
    const at = i * width;
    switch (datatype) {
      case 'BOOL':
        out.writeUInt8(v === true ? 1 : 0, at);
        break;
      case 'UINT8':
        out.writeUInt8(Number(v), at);
        break;
      case 'INT8':
        out.writeInt8(Number(v), at);
        break;
      case 'UINT16':
        out.writeUInt16LE(Number(v), at);
        break;
      case 'INT16':
        out.writeInt16LE(Number(v), at);
        break;
      case 'FP16':
        out.writeUInt16LE(numberToFloat16(Number(v)), at);
        break;
      case 'UINT32':
        out.writeUInt32LE(Number(v), at);
        break;
      case 'INT32':
        out.writeInt32LE(Number(v), at);
        break;
      case 'FP32':
        out.writeFloatLE(Number(v), at);
        break;
      case 'UINT64':
        out.writeBigUInt64LE(BigInt(v), at);
        break;
      case 'INT64':
        out.writeBigInt64LE(BigInt(v), at);
        break;
      case 'FP64':
        out.writeDoubleLE(Number(v), at);
        break;
    }
  });
  return out;
}

export function decodeRaw(datatype: string, raw: Buffer): SampleValue[] {
  if (datatype === 'BYTES') {
    const out: string[] = [];
    for (let at = 0; at < raw.length;) {
      const length = raw.readUInt32LE(at);
      out.push(raw.subarray(at + 4, at + 4 + length).toString('utf8'));
      at += 4 + length;
    }
    return out;
  }
  const width = WIDTH[datatype] ?? 1;
  return Array.from({ length: raw.length / width }, (_, i): SampleValue => {
    const at = i * width;
    switch (datatype) {
      case 'BOOL':
        return raw.readUInt8(at) !== 0;
      case 'UINT8':
        return raw.readUInt8(at);
      case 'INT8':
        return raw.readInt8(at);
      case 'UINT16':
        return raw.readUInt16LE(at);
      case 'INT16':
        return raw.readInt16LE(at);
      case 'FP16':
        return float16ToNumber(raw.readUInt16LE(at));
      case 'UINT32':
        return raw.readUInt32LE(at);
      case 'INT32':
        return raw.readInt32LE(at);
      case 'FP32':
        return raw.readFloatLE(at);
      case 'UINT64':
        return raw.readBigUInt64LE(at);
      case 'INT64':
        return raw.readBigInt64LE(at);
      default:
        return raw.readDoubleLE(at);
    }
  });
}

/** JSON as Python's json (tritonclient, kserve) writes it: 64-bit integers as their exact digits. */
export function exactJson(value: unknown): string {
  const json = JSON as unknown as { rawJSON(text: string): unknown };
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'bigint' ? json.rawJSON(v.toString()) : v,
  );
}

/** JSON.parse keeping integers past 2^53 exact (bigint), as Python's json reads them. */
export function parseExactJson(text: string): unknown {
  const parse = JSON.parse as (
    text: string,
    reviver: (key: string, value: unknown, context: { source?: string }) => unknown,
  ) => unknown;
  return parse(text, (_key, value, context) =>
    typeof value === 'number' &&
    Number.isInteger(value) &&
    !Number.isSafeInteger(value) &&
    context.source !== undefined &&
    /^-?\d+$/.test(context.source)
      ? BigInt(context.source)
      : value,
  );
}
