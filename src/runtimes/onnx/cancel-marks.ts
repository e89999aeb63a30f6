/** Marks per worker, indexed by job seq: more than any depth, so the jobs one worker holds never share one. */
export const CANCEL_SLOTS = 8;

/**
 * Int32 marks in memory shared by the pool and one worker (WorkerSlotData.cancelled): the pool writes the seq
 * of a job whose request ended at seq % CANCEL_SLOTS, and the worker, busy in a run and deaf to messages,
 * still sees it in time not to decode or run that job. A worker holds consecutive seqs, at most CANCEL_SLOTS
 * of them, so a mark is never mistaken for another held job's.
 */
export class CancelMarks {
  private readonly marks: Int32Array;

  constructor(readonly buffer = new SharedArrayBuffer(CANCEL_SLOTS * Int32Array.BYTES_PER_ELEMENT)) {
    this.marks = new Int32Array(buffer);
  }

  mark(seq: number): void {
    Atomics.store(this.marks, seq % this.marks.length, seq);
  }

  has(seq: number): boolean {
    return Atomics.load(this.marks, seq % this.marks.length) === seq;
  }
}
