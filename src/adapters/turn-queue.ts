/** Slots already run that a queue under steady load drops at once, past this many. */
const COMPACT_AFTER = 1024;

/**
 * Runs its tasks one per turn of the event loop, in order. When many uploads finish arriving at once, Node
 * would otherwise run every one's completion (joining its chunks, parsing, handing it to the model) in the
 * same poll phase, and a health check arriving meanwhile waits behind all of them: 64 uploads of 600 KB held
 * the event loop ~70 ms. Here each completion gets a turn of its own, and between two turns the loop polls
 * its sockets again, so short requests are answered in between. A task queued while the loop is idle runs on
 * the next turn, a few microseconds later.
 */
export class TurnQueue {
  private tasks: (() => void)[] = [];
  private next = 0;
  private scheduled = false;

  get length(): number {
    return this.tasks.length - this.next;
  }

  enqueue(task: () => void): void {
    this.tasks.push(task);
    if (!this.scheduled) {
      this.scheduled = true;
      // An immediate queued from inside the check phase waits for the next turn, after the next poll.
      setImmediate(this.runOne);
    }
  }

  private readonly runOne = (): void => {
    const task = this.tasks[this.next];
    this.next++;
    if (this.next === this.tasks.length) {
      this.tasks = [];
      this.next = 0;
      this.scheduled = false;
    } else {
      // Under steady load the queue may never empty: the slots already run are dropped now and then.
      if (this.next >= COMPACT_AFTER && this.next * 2 >= this.tasks.length) {
        this.tasks = this.tasks.slice(this.next);
        this.next = 0;
      }
      setImmediate(this.runOne);
    }
    task?.();
  };
}

/**
 * The one queue every protocol's requests take their turn in, so that a burst over gRPC and one over HTTP
 * share the event loop fairly too.
 */
export const REQUEST_TURNS = new TurnQueue();
