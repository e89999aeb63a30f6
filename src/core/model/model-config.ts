/**
 * How a model wants its input image and how its output is read. Every field is resolved by the time the
 * core sees it: defaults and values read from the model file are filled in by `resolveImageContract`.
 */
export type Layout = 'NCHW' | 'NHWC';
export type ImageDType = 'float32' | 'uint8' | 'float16';
export type ColorOrder = 'RGB' | 'BGR';
export type ResizeMode = 'shorter-side-then-center-crop' | 'stretch';
export type OutputKind = 'logits' | 'probabilities';

export interface ImageInputContract {
  /** Name of the model input the image tensor is fed to. */
  readonly name: string;
  readonly layout: Layout;
  readonly dtype: ImageDType;
  readonly colorOrder: ColorOrder;
  /** Height and width of the tensor the model takes. */
  readonly height: number;
  readonly width: number;
  readonly resizeMode: ResizeMode;
  /** For 'shorter-side-then-center-crop': the shorter side is resized to this many pixels first. */
  readonly resizeShorterSide: number;
  /** value = (pixel * scale - mean[c]) / std[c], with mean and std in the tensor's channel order. */
  readonly scale: number;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

export interface ClassifierOutputContract {
  readonly name: string;
  readonly kind: OutputKind;
  /** True when index 0 is a "background" class that is dropped before softmax and labelling. */
  readonly backgroundClass: boolean;
  readonly classCount: number;
}

/** Which versions of a repository model to serve (Triton's version_policy); default `{ latest: 1 }`. */
export type VersionPolicy =
  { readonly latest: number } | { readonly all: true } | { readonly specific: readonly string[] };

/** What a user may write in model.json (or what a zoo entry carries); every field is optional. */
export interface ModelConfigFile {
  readonly name?: string | undefined;
  readonly versionPolicy?: VersionPolicy | undefined;
  /** Dynamic batching (Triton's knobs); off unless maxBatchSize > 1. */
  readonly batching?:
    | {
        readonly maxBatchSize?: number;
        readonly maxQueueDelayMs?: number;
        readonly preferredBatchSizes?: readonly number[];
        /** Requests allowed to wait for this model (with or without batching); overrides --max-queue-size. */
        readonly maxQueueSize?: number;
        /** Longest a request may wait in this model's queue before it is refused (Triton's queue policy timeout). */
        readonly queueTimeoutMs?: number;
      }
    | undefined;
  readonly labels?: string | readonly string[] | undefined;
  readonly input?:
    | Partial<{
        name: string;
        layout: Layout;
        dtype: ImageDType;
        colorOrder: ColorOrder;
        size: readonly [number, number] | number;
        resizeMode: ResizeMode;
        resizeShorterSide: number;
        scale: number;
        mean: readonly [number, number, number];
        std: readonly [number, number, number];
      }>
    | undefined;
  readonly output?:
    | Partial<{
        name: string;
        kind: OutputKind;
        backgroundClass: boolean;
      }>
    | undefined;
}
