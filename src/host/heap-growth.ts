import v8 from 'node:v8';

/**
 * How far V8 lets the heap grow past what survived the last full collection before it collects again, in
 * percent. Left to itself V8 chose about 100 % for this server (~16 MB live): under load it then started
 * incremental marking again soon after each collection ended (its trace gives the reason as "task", at 16
 * of 32 MB), a 5–15 ms mark-compact every few hundred milliseconds on the event loop, the largest single
 * cost of an OIP request there. 150 % cut those collections by more than half for a few MB of heap
 * (docs/performance.md has the measurements).
 */
export const HEAP_GROWING_PERCENT = 150;

/**
 * Sets V8's heap growing factor for this process, unless the command line already set it. Node refuses the
 * flag in NODE_OPTIONS, and V8 reads it anew after every full collection, so setting it at run time is how a
 * plain `skiff serve` gets it. Returns whether it was set here.
 */
export function widenHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg))) return false;
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
