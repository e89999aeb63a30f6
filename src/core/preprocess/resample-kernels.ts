import type { WasmFunction } from './wasm-module.js';
import { EMPTY, OP, SIMD, i32Const, i32Load, memarg, simd, unsigned, wasmModule } from './wasm-module.js';

/**
 * The two passes of resample-bilinear.ts for outputs of at most four taps, as WebAssembly SIMD: four 32-bit
 * lanes hold one pixel's R, G, B (and a fourth byte that is overwritten), or four bytes of a row. The
 * arithmetic is the JavaScript loops' exactly (32-bit products and sums, an arithmetic shift, clamping to
 * 0..255), about five times faster. Addresses are byte offsets into `memory`; every buffer read needs 8
 * spare bytes after its end and every buffer written 8 after its end, as the loops read and write in
 * blocks of 4 and 8 bytes.
 */
export interface ResampleKernels {
  readonly memory: WasmMemory;
  /**
   * Horizontal pass over rows [firstRow, lastRow) of the upright picture whose pixel (x, y) is at
   * `origin + x * stepX + y * stepY`: `outWidth` RGB outputs per row, output i reading pixels starts[i]..+3
   * (an Int32Array at `starts`) with the four weights at `weights` + 16 i.
   */
  horizontal(
    origin: number,
    stepX: number,
    stepY: number,
    firstRow: number,
    lastRow: number,
    starts: number,
    weights: number,
    outWidth: number,
    out: number,
  ): void;
  /** Vertical pass: output row j = rows starts[j]..+3 of `between` (rows of `rowWidth` bytes) weighted. */
  vertical(
    between: number,
    starts: number,
    weights: number,
    rowWidth: number,
    out: number,
    outHeight: number,
  ): void;
}

/** The part of the WebAssembly API used here: this build's libraries (ES2023 and Node's) do not declare it. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface WasmApi {
  readonly Memory: new (descriptor: { initial: number }) => WasmMemory;
  readonly Module: new (bytes: Uint8Array<ArrayBuffer>) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: object };
}

const HALF = 1 << 21;
const SHIFT = 22;

/** Compiles and instantiates the kernels; undefined where WebAssembly SIMD is not available. */
export function createResampleKernels(): ResampleKernels | undefined {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (wasm === undefined) return undefined;
  try {
    const memory = new wasm.Memory({ initial: 1 });
    const module = new wasm.Module(wasmModule([horizontalFunction(), verticalFunction()]));
    const instance = new wasm.Instance(module, { env: { memory } });
    const { horizontal, vertical } = instance.exports as unknown as Omit<ResampleKernels, 'memory'>;
    return { memory, horizontal, vertical };
  } catch {
    return undefined;
  }
}

const get = (local: number): number[] => [OP.localGet, ...unsigned(local)];
const set = (local: number): number[] => [OP.localSet, ...unsigned(local)];
const tee = (local: number): number[] => [OP.localTee, ...unsigned(local)];
const add = (local: number, value: number): number[] => [
  ...get(local),
  ...i32Const(value),
  OP.i32Add,
  ...set(local),
];

/** i32x4 of the low four bytes at the address on the stack, each zero-extended. */
const loadFourBytes = (): number[] => [
  ...simd(SIMD.load32Zero, ...memarg()),
  ...simd(SIMD.i16x8ExtendLowI8x16U),
  ...simd(SIMD.i32x4ExtendLowI16x8U),
];

/** The v128 on the stack as bytes: each 32-bit lane shifted down and clamped to 0..255 (lanes 0..3 valid). */
const toBytes = (scratch: number): number[] => [
  ...i32Const(SHIFT),
  ...simd(SIMD.i32x4ShrS),
  ...tee(scratch),
  ...get(scratch),
  ...simd(SIMD.i16x8NarrowI32x4S),
  ...tee(scratch),
  ...get(scratch),
  ...simd(SIMD.i8x16NarrowI16x8U),
];

function horizontalFunction(): WasmFunction {
  // Parameters, then i32 locals, then the v128 local.
  const [origin, stepX, stepY, firstRow, lastRow, starts, weights, outWidth, out] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8,
  ];
  const [y, row, i, s, w, p, o, step2, step3] = [9, 10, 11, 12, 13, 14, 15, 16, 17];
  const acc = 18;
  const tap = (t: number): number[] => [
    ...get(p),
    ...(t === 0 ? [] : [...get([0, stepX, step2, step3][t] ?? stepX), OP.i32Add]),
    ...loadFourBytes(),
    ...get(w),
    ...i32Load(4 * t),
    ...simd(SIMD.i32x4Splat),
    ...simd(SIMD.i32x4Mul),
    ...get(acc),
    ...simd(SIMD.i32x4Add),
    ...set(acc),
  ];
  const body = [
    ...get(stepX),
    ...i32Const(2),
    OP.i32Mul,
    ...set(step2),
    ...get(stepX),
    ...i32Const(3),
    OP.i32Mul,
    ...set(step3),
    ...get(firstRow),
    ...set(y),
    ...get(out),
    ...set(o),
    OP.block,
    EMPTY,
    ...get(y),
    ...get(lastRow),
    OP.i32GeS,
    OP.brIf,
    0,
    ...get(outWidth),
    OP.i32Eqz,
    OP.brIf,
    0,
    OP.loop,
    EMPTY,
    ...get(origin),
    ...get(y),
    ...get(stepY),
    OP.i32Mul,
    OP.i32Add,
    ...set(row),
    ...get(starts),
    ...set(s),
    ...get(weights),
    ...set(w),
    ...i32Const(0),
    ...set(i),
    OP.loop,
    EMPTY,
    ...get(row),
    ...get(s),
    ...i32Load(),
    ...get(stepX),
    OP.i32Mul,
    OP.i32Add,
    ...set(p),
    ...i32Const(HALF),
    ...simd(SIMD.i32x4Splat),
    ...set(acc),
    ...tap(0),
    ...tap(1),
    ...tap(2),
    ...tap(3),
    ...get(o),
    ...get(acc),
    ...toBytes(acc),
    ...simd(SIMD.store32Lane, ...memarg(), 0),
    ...add(o, 3),
    ...add(s, 4),
    ...add(w, 16),
    ...get(i),
    ...i32Const(1),
    OP.i32Add,
    ...tee(i),
    ...get(outWidth),
    OP.i32LtS,
    OP.brIf,
    0,
    OP.end,
    ...get(y),
    ...i32Const(1),
    OP.i32Add,
    ...tee(y),
    ...get(lastRow),
    OP.i32LtS,
    OP.brIf,
    0,
    OP.end,
    OP.end,
  ];
  return { name: 'horizontal', params: 9, i32Locals: 9, v128Locals: 1, body };
}

function verticalFunction(): WasmFunction {
  const [between, starts, weights, rowWidth, out, outHeight] = [0, 1, 2, 3, 4, 5];
  const [j, a0, i, o, s, w, width2, width3] = [6, 7, 8, 9, 10, 11, 12, 13];
  const [k0, lo, hi, bytes] = [14, 18, 19, 20];
  const splatWeight = (t: number): number[] => [
    ...get(w),
    ...i32Load(4 * t),
    ...simd(SIMD.i32x4Splat),
    ...set(k0 + t),
  ];
  const tap = (t: number): number[] => [
    ...get(a0),
    ...(t === 0 ? [] : [...get([0, rowWidth, width2, width3][t] ?? rowWidth), OP.i32Add]),
    ...get(i),
    OP.i32Add,
    ...simd(SIMD.load8x8U, ...memarg()),
    ...tee(bytes),
    ...simd(SIMD.i32x4ExtendLowI16x8U),
    ...get(k0 + t),
    ...simd(SIMD.i32x4Mul),
    ...get(lo),
    ...simd(SIMD.i32x4Add),
    ...set(lo),
    ...get(bytes),
    ...simd(SIMD.i32x4ExtendHighI16x8U),
    ...get(k0 + t),
    ...simd(SIMD.i32x4Mul),
    ...get(hi),
    ...simd(SIMD.i32x4Add),
    ...set(hi),
  ];
  const body = [
    ...get(rowWidth),
    ...i32Const(2),
    OP.i32Mul,
    ...set(width2),
    ...get(rowWidth),
    ...i32Const(3),
    OP.i32Mul,
    ...set(width3),
    ...get(out),
    ...set(o),
    ...get(starts),
    ...set(s),
    ...get(weights),
    ...set(w),
    OP.block,
    EMPTY,
    ...get(outHeight),
    ...i32Const(1),
    OP.i32LtS,
    OP.brIf,
    0,
    ...get(rowWidth),
    ...i32Const(1),
    OP.i32LtS,
    OP.brIf,
    0,
    OP.loop,
    EMPTY,
    ...get(between),
    ...get(s),
    ...i32Load(),
    ...get(rowWidth),
    OP.i32Mul,
    OP.i32Add,
    ...set(a0),
    ...splatWeight(0),
    ...splatWeight(1),
    ...splatWeight(2),
    ...splatWeight(3),
    ...i32Const(0),
    ...set(i),
    OP.loop,
    EMPTY,
    ...i32Const(HALF),
    ...simd(SIMD.i32x4Splat),
    ...tee(lo),
    ...set(hi),
    ...tap(0),
    ...tap(1),
    ...tap(2),
    ...tap(3),
    ...get(o),
    ...get(i),
    OP.i32Add,
    ...get(lo),
    ...i32Const(SHIFT),
    ...simd(SIMD.i32x4ShrS),
    ...get(hi),
    ...i32Const(SHIFT),
    ...simd(SIMD.i32x4ShrS),
    ...simd(SIMD.i16x8NarrowI32x4S),
    ...tee(bytes),
    ...get(bytes),
    ...simd(SIMD.i8x16NarrowI16x8U),
    ...simd(SIMD.store64Lane, ...memarg(), 0),
    ...get(i),
    ...i32Const(8),
    OP.i32Add,
    ...tee(i),
    ...get(rowWidth),
    OP.i32LtS,
    OP.brIf,
    0,
    OP.end,
    ...get(o),
    ...get(rowWidth),
    OP.i32Add,
    ...set(o),
    ...add(s, 4),
    ...add(w, 16),
    ...get(j),
    ...i32Const(1),
    OP.i32Add,
    ...tee(j),
    ...get(outHeight),
    OP.i32LtS,
    OP.brIf,
    0,
    OP.end,
    OP.end,
  ];
  return { name: 'vertical', params: 6, i32Locals: 8, v128Locals: 7, body };
}
