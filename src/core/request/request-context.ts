import { SkiffError } from '../errors.js';

/**
 * What the core knows of the request it is serving, whatever protocol brought it: who it is (for logs and
 * masked errors), when it must be answered by, and whether anyone still waits for the answer. Every step
 * that costs something (decoding, queueing, running) looks at `signal` first and stops once it is aborted;
 * its `reason` is the SkiffError to answer with (SKIFF_TIMEOUT or SKIFF_CANCELLED).
 */
export interface RequestContext {
  readonly id: string;
  /** performance.now() time by which the request must be answered; Infinity when nothing bounds it. */
  readonly deadline: number;
  readonly signal: AbortSignal;
}

/** A context for work nobody waits on with a deadline (warm-up, tests): never aborted. */
export const BACKGROUND: RequestContext = Object.freeze({
  id: 'background',
  deadline: Infinity,
  signal: new AbortController().signal,
});

/** Throws the reason the request ended early (deadline or client gone), if it did. */
export function throwIfEnded(context: RequestContext): void {
  if (context.signal.aborted) throw endReason(context.signal);
}

export function endReason(signal: AbortSignal): SkiffError {
  const reason: unknown = signal.reason;
  return reason instanceof SkiffError
    ? reason
    : new SkiffError('SKIFF_CANCELLED', 'the request was cancelled', { cause: reason });
}

/**
 * The owner's side of a RequestContext: an adapter starts one per request, ends it when the client leaves
 * (`cancel`), and `dispose`s it once answered, which clears its timer. The deadline is the earlier of the
 * server's request timeout and the client's own (a gRPC deadline, an HTTP timeout header); either way the
 * request is aborted with SKIFF_TIMEOUT once it passes, queued or running.
 */
export class RequestLifetime implements RequestContext {
  readonly deadline: number;
  private readonly controller = new AbortController();
  private readonly timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly id: string,
    timeouts: { readonly serverMs: number; readonly clientMs?: number | undefined },
    now: number = performance.now(),
  ) {
    const { serverMs, clientMs } = timeouts;
    const server = serverMs > 0 ? serverMs : Infinity;
    const client = clientMs !== undefined && clientMs >= 0 ? clientMs : Infinity;
    const budgetMs = Math.min(server, client);
    this.deadline = now + budgetMs;
    if (budgetMs === Infinity) return;
    const who = client < server ? "the client's deadline" : '--request-timeout-ms';
    const expire = (): void => {
      this.controller.abort(
        new SkiffError(
          'SKIFF_TIMEOUT',
          `the request did not finish within ${Math.round(budgetMs)} ms (${who}); it was stopped`,
        ),
      );
    };
    if (budgetMs <= 0) expire();
    else this.timer = setTimeout(expire, budgetMs);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The client left (closed the connection, cancelled the call): nothing more is worth doing. */
  cancel(why: string): void {
    this.controller.abort(new SkiffError('SKIFF_CANCELLED', `the client went away: ${why}`));
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}
