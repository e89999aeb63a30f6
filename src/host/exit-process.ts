import { exitBlockers } from './exit-blockers.js';

export type StopSignal = 'SIGTERM' | 'SIGINT';

let stopSignal: StopSignal | undefined;

/** Records that the process is ending because it was asked to: a forced end then uses that same signal. */
export function stoppingOnSignal(signal: StopSignal): void {
  stopSignal ??= signal;
}

export interface ExitOptions {
  /** How long to wait for exit blockers to end by themselves before forcing the end. */
  readonly waitMs: number;
  /** Writes one line saying why the exit is forced. */
  readonly log: (message: string) => void;
}

/**
 * Ends the process with `code`, like process.exit(), unless a thread is still inside a native call that Node's
 * exit would wait for, for ever if the call never returns (exit-blockers.ts). Such threads get `waitMs` to end;
 * if any is left, the process ends itself with a signal, which no thread can hold up: the signal that asked it
 * to stop (SIGTERM: status 143, SIGINT: 130), else SIGKILL (137), which every supervisor counts as a failure.
 * Never returns.
 */
export async function exitProcess(code: number, options: ExitOptions): Promise<never> {
  const deadline = Date.now() + options.waitMs;
  while (exitBlockers().length > 0 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 10));
  const left = exitBlockers();
  if (left.length === 0) process.exit(code);
  const signal = stopSignal ?? 'SIGKILL';
  options.log(
    `${left.length === 1 ? 'a thread is' : `${left.length} threads are`} stuck in a native call (${left.join('; ')}), ` +
      `and Node cannot exit until ${left.length === 1 ? 'it returns' : 'they return'}: ending the process with ${signal} instead of exit code ${code}`,
  );
  return endWithSignal(signal);
}

/**
 * Ends the process by a signal at once, whatever its threads are doing: its JavaScript listeners are removed
 * first so that the default action (termination) applies. Never returns.
 */
export function endWithSignal(signal: StopSignal | 'SIGKILL'): Promise<never> {
  if (signal !== 'SIGKILL') {
    process.removeAllListeners(signal);
    // Should the signal still be caught somehow, this one cannot be.
    setTimeout(() => process.kill(process.pid, 'SIGKILL'), 1000);
  }
  process.kill(process.pid, signal);
  return new Promise<never>(() => undefined);
}
