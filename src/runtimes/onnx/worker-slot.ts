import { Worker } from 'node:worker_threads';
import type { ToWorker, WorkerSlotData } from './worker-messages.js';
import { blockExit } from '../../host/exit-blockers.js';
import { SeqMarks } from './seq-marks.js';
import type { Job } from './pool-job.js';
import { sendJob } from './pool-job.js';

/** One worker thread of a pool, and the jobs it holds. */
export interface WorkerSlot {
  readonly worker: Worker;
  /** Shared with the worker: where the seq of a job whose request ended is marked. */
  readonly marks: SeqMarks;
  /** Shared with the worker: where a job's seq is marked once the event loop has polled since its hand-over. */
  readonly polled: SeqMarks;
  /** The jobs sent to this worker and not answered yet, oldest (running) first. */
  readonly jobs: Job[];
  nextSeq: number;
  ready: boolean;
  exited: boolean;
  /** Says the thread is out of native code again: it is idle in its event loop, or gone. */
  outOfNative: () => void;
}

/** Starts a worker thread on `script`, with cancellation marks of its own; an exit blocker while it loads. */
export function startSlot(script: URL, workerData: unknown, label: string): WorkerSlot {
  const marks = new SeqMarks();
  const polled = new SeqMarks();
  const slotData: WorkerSlotData = { cancelled: marks.buffer, polled: polled.buffer };
  return {
    worker: new Worker(script, { workerData: { ...(workerData as object), ...slotData } }),
    marks,
    polled,
    jobs: [],
    nextSeq: 1,
    ready: false,
    exited: false,
    outOfNative: blockExit(`an inference worker loading ${label}`),
  };
}

/**
 * Sends a job to the slot's worker, which holds it from now on; `job.seq` is the slot's next. Its polled mark
 * is written two turns later: an immediate queued from an immediate runs after the next poll phase, which
 * begins after this call, so a client that had left by now has been read (its request cancelled, the job
 * marked) by then. The event loop never blocks in between: a pending immediate makes its poll return at once.
 */
export function holdJob(slot: WorkerSlot, job: Job, label: string): void {
  if (slot.jobs.push(job) === 1)
    slot.outOfNative = blockExit(`an inference worker running a request on ${label}`);
  sendJob(slot.worker, job);
  setImmediate(() => setImmediate(() => slot.polled.mark(job.seq)));
}

/** Takes the job the worker answered out of the slot (the oldest: a worker answers in order). */
export function takeJob(slot: WorkerSlot, id: number): Job | undefined {
  const at = slot.jobs.findIndex((j) => j.id === id);
  const [job] = at === -1 ? [] : slot.jobs.splice(at, 1);
  if (slot.jobs.length === 0) slot.outOfNative();
  return job;
}

/** The ready slot holding the fewest jobs, below `depth`: idle workers first, then second places. */
export function leastLoaded(slots: Iterable<WorkerSlot>, depth: number): WorkerSlot | undefined {
  let best: WorkerSlot | undefined;
  for (const slot of slots) {
    if (!slot.ready || slot.jobs.length >= depth) continue;
    if (best === undefined || slot.jobs.length < best.jobs.length) best = slot;
  }
  return best;
}

/** Asks a worker to end once it is back in JavaScript; resolves when its thread has. */
export function askToExit(slot: WorkerSlot): Promise<void> {
  if (slot.exited) return Promise.resolve();
  const exited = new Promise<void>((resolve) => slot.worker.once('exit', () => resolve()));
  slot.worker.postMessage({ kind: 'exit' } satisfies ToWorker);
  return exited;
}
