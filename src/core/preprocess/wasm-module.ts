/**
 * Just enough of WebAssembly's binary format to write a few hot loops by hand (resample-kernels.ts): one
 * imported memory, functions taking i32 arguments and returning nothing, i32 and v128 locals. Writing the
 * bytes here keeps the loops readable in this repository and needs no compiler at build time.
 */
export interface WasmFunction {
  readonly name: string;
  readonly params: number;
  readonly i32Locals: number;
  readonly v128Locals: number;
  readonly body: readonly number[];
}

const I32 = 0x7f;
const V128 = 0x7b;

/** The module's bytes: memory imported as env.memory, each function exported under its name. */
export function wasmModule(functions: readonly WasmFunction[]): Uint8Array<ArrayBuffer> {
  const types = functions.map((f) => [0x60, ...vector(Array.from({ length: f.params }, () => [I32])), 0]);
  const memoryImport = [...name('env'), ...name('memory'), 0x02, 0x00, 0x01];
  const exports = functions.map((f, index) => [...name(f.name), 0x00, ...unsigned(index)]);
  const codes = functions.map((f) => {
    const locals = vector([
      [...unsigned(f.i32Locals), I32],
      [...unsigned(f.v128Locals), V128],
    ]);
    const body = [...locals, ...f.body, OP.end];
    return [...unsigned(body.length), ...body];
  });
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector(types)),
    ...section(2, vector([memoryImport])),
    ...section(3, vector(functions.map((_, index) => unsigned(index)))),
    ...section(7, vector(exports)),
    ...section(10, vector(codes)),
  ]);
}

/** Opcodes used by the kernels (core instruction set, then the 0xFD-prefixed SIMD ones). */
export const OP = {
  block: 0x02,
  loop: 0x03,
  brIf: 0x0d,
  end: 0x0b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32LtS: 0x48,
  i32GeS: 0x4e,
  i32Add: 0x6a,
  i32Mul: 0x6c,
} as const;

export const SIMD = {
  load8x8U: 0x02,
  i32x4Splat: 0x11,
  store32Lane: 0x5a,
  store64Lane: 0x5b,
  load32Zero: 0x5c,
  i8x16NarrowI16x8U: 0x66,
  i16x8NarrowI32x4S: 0x85,
  i16x8ExtendLowI8x16U: 0x89,
  i32x4ExtendLowI16x8U: 0xa9,
  i32x4ExtendHighI16x8U: 0xaa,
  i32x4ShrS: 0xac,
  i32x4Add: 0xae,
  i32x4Mul: 0xb5,
} as const;

/** A block type byte: the block leaves nothing on the stack. */
export const EMPTY = 0x40;

/** A SIMD instruction, with its immediates (memory argument, lane) already encoded by the caller. */
export function simd(op: number, ...immediates: number[]): number[] {
  return [0xfd, ...unsigned(op), ...immediates];
}

export function i32Const(value: number): number[] {
  return [OP.i32Const, ...signed(value)];
}

/** An i32 load at `offset` bytes past the address on the stack (alignment hint 4 bytes). */
export function i32Load(offset = 0): number[] {
  return [OP.i32Load, 2, ...unsigned(offset)];
}

/** A memory argument with no alignment promise, as SIMD loads and stores here read unaligned bytes. */
export function memarg(offset = 0): number[] {
  return [0, ...unsigned(offset)];
}

export function unsigned(value: number): number[] {
  const bytes: number[] = [];
  let rest = value >>> 0;
  do {
    const byte = rest & 0x7f;
    rest >>>= 7;
    bytes.push(rest === 0 ? byte : byte | 0x80);
  } while (rest !== 0);
  return bytes;
}

function signed(value: number): number[] {
  const bytes: number[] = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    const done = (rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...unsigned(bytes.length), ...bytes];
}

function vector(items: readonly (readonly number[])[]): number[] {
  return [...unsigned(items.length), ...items.flat()];
}

function section(id: number, content: readonly number[]): number[] {
  return [id, ...unsigned(content.length), ...content];
}
