// Node's exit (process.exit() and process.reallyExit() included) joins every worker thread and every thread of
// libuv's pool before the process ends. A thread inside a native call that never returns (ONNX Runtime opening
// a FIFO, a read from a dead NFS mount) therefore keeps the process alive for ever, SIGTERM or not: checked on
// Node 20.20, 22.13 and 26.12. Whoever starts such a call registers it here, so that the exit path can tell
// whether a normal exit can still finish (exit-process.ts).

const blockers = new Map<number, string>();
let nextId = 0;

/**
 * Registers a thread that may be inside a native call Node's exit would wait for (a worker thread loading a
 * model or running an inference, a file-system call on libuv's pool). Returns the function that says it is
 * over; calling it more than once is harmless.
 */
export function blockExit(what: string): () => void {
  const id = nextId++;
  blockers.set(id, what);
  return () => {
    blockers.delete(id);
  };
}

/** What may still hold the exit, oldest first. */
export function exitBlockers(): string[] {
  return [...blockers.values()];
}
