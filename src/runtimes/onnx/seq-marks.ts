/** Marks per worker, indexed by job seq: more than any depth, so the jobs one worker holds never share one. */
export const MARK_SLOTS = 8;

/**
 * Int32 marks in memory shared by the pool and one worker (WorkerSlotData): the pool writes a job's seq at
 * seq % MARK_SLOTS, and the worker, busy in a run and deaf to messages, still sees it. A worker holds
 * consecutive seqs, at most MARK_SLOTS of them, so a mark is never mistaken for another held job's.
 */
export class SeqMarks {
  private readonly marks: Int32Array;

  constructor(readonly buffer = new SharedArrayBuffer(MARK_SLOTS * Int32Array.BYTES_PER_ELEMENT)) {
    this.marks = new Int32Array(buffer);
  }

  mark(seq: number): void {
    const at = seq % this.marks.length;
    Atomics.store(this.marks, at, seq);
    Atomics.notify(this.marks, at);
  }

  has(seq: number): boolean {
    return Atomics.load(this.marks, seq % this.marks.length) === seq;
  }

  /**
   * Blocks this thread until `seq` is marked or `timeoutMs` passed; true when it is marked. Only for a worker
   * thread with nothing else to do meanwhile: its event loop stands still.
   */
  waitFor(seq: number, timeoutMs: number): boolean {
    const at = seq % this.marks.length;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const seen = Atomics.load(this.marks, at);
      if (seen === seq) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.wait(this.marks, at, seen, left);
    }
  }
}
