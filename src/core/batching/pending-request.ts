import type { EncodedImage } from '../model/runtime.js';
import type { ImageInputContract } from '../model/model-config.js';
import type { Tensor } from '../tensor/tensor.js';

/** What a request asks the model to run: tensors, or an image the model decodes itself (LoadedModel.inferImage). */
export type Work =
  | { readonly kind: 'tensors'; readonly inputs: Readonly<Record<string, Tensor>> }
  | { readonly kind: 'image'; readonly image: EncodedImage; readonly input: ImageInputContract };

/** A request the scheduler admitted, from its submission until it is answered. */
export interface PendingRequest {
  readonly work: Work;
  readonly outputNames: readonly string[] | undefined;
  readonly rows: number;
  /** Which requests it may share a batch with (batchKey); '' when the scheduler does not batch. */
  readonly key: string;
  readonly enqueued: number;
  readonly resolve: (outputs: Record<string, Tensor>) => void;
  readonly reject: (error: unknown) => void;
  readonly warmUp: boolean;
  /** The observer's handle on the submitting request (see InferenceObserver.requestContext). */
  readonly context: unknown;
  readonly signal: AbortSignal | undefined;
  /** Settled already (answered, or ended early by its context): later outcomes are dropped. */
  done: boolean;
  onAbort?: () => void;
  /** Refuses the request if it is still queued after the model's queueTimeoutMs. */
  queueTimer?: ReturnType<typeof setTimeout>;
  /** SubmitOptions.onSettled, cleared once called. */
  onSettled: (() => void) | undefined;
}

/** Answers a request once: its timer and abort listener go, later outcomes are ignored. */
export function settle(pending: PendingRequest, answer: () => void): void {
  if (pending.done) return;
  pending.done = true;
  clearTimeout(pending.queueTimer);
  if (pending.onAbort !== undefined) pending.signal?.removeEventListener('abort', pending.onAbort);
  answer();
}

/** Calls a request's onSettled once: its queue place and whatever it held are free again. */
export function workOver(pending: PendingRequest): void {
  const onSettled = pending.onSettled;
  pending.onSettled = undefined;
  onSettled?.();
}
