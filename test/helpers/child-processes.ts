// Test support: child processes that cannot outlive the test, and stops that cannot hang it.
import type { ChildProcess } from 'node:child_process';

export interface TrackedChild {
  /** Settles with the exit code (null after a signal) once the child has exited and closed its pipes. */
  readonly closed: Promise<number | null>;
  /**
   * Sends `signal` and waits for the child to close, at most `graceMs`; then SIGKILL and at most 5 s more.
   * Resolves with the exit code, or null when it had to be killed or never closed: a stop that hangs is
   * a failure to report, never a wait without end.
   */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

const alive = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const running of alive) running.kill('SIGKILL');
}

/**
 * Registers `child` to be killed (SIGKILL) when this process ends, whatever ends it: a test that fails
 * between start and stop, `--test-force-exit`, or the signal `node --test` sends a file that ran past
 * `--test-timeout` (SIGTERM, which skips 'exit' handlers and, unhandled, would leave the child orphaned).
 * Without it, a server or registry left running keeps the test file's process alive, and `node --test`
 * waits for it for ever.
 */
export function trackChild(child: ChildProcess): TrackedChild {
  if (!hooked) {
    hooked = true;
    process.on('exit', killAll);
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const)
      process.once(signal, () => {
        killAll();
        // Our listener is gone: the same signal now ends this process as it would have without us.
        process.kill(process.pid, signal);
      });
  }
  alive.add(child);
  const closed = new Promise<number | null>((resolve) => {
    child.once('close', (code: number | null) => resolve(code));
    // A command that could not be started emits 'error' and may never emit 'close'.
    child.once('error', () => resolve(null));
  });
  void closed.then(() => alive.delete(child));
  return {
    closed,
    stop: async (signal = 'SIGTERM', graceMs = 30_000) => {
      child.kill(signal);
      if (await settlesWithin(closed, graceMs)) return closed;
      child.kill('SIGKILL');
      if (await settlesWithin(closed, 5000)) return null;
      // Killed, but a grandchild still holds its pipes: let go of them so they keep nothing alive here.
      child.stdout?.destroy();
      child.stderr?.destroy();
      return null;
    },
  };
}

/** True when `promise` settles within `ms`; the timer never outlives the wait. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
