import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OptimizedGraphOutcome, WorkerInit } from './worker-messages.js';
import { isSavedGraph } from './optimized-graph-cache.js';

/**
 * What optimizing in a child process came to: nothing to do, the graph is there (`read`); the graph saved
 * (`written`); the model optimized but not saved (`not cached`, `detail` says why); another writer holding
 * the lock (`busy`); or the child not answering (`failed`: it could not start, crashed, or the model itself
 * did not load; the workers then try as they always did, and report the model's own error).
 */
export type ApartOutcome =
  | OptimizedGraphOutcome
  | { readonly outcome: 'busy' }
  | { readonly outcome: 'failed'; readonly detail: string };

/** The child's answer is one short JSON line; anything longer is not it. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Optimizes the model and saves its graph in a child process (optimize-process.ts), for the workers to
 * start from. The same work in a worker thread would leave ~140 MB of ResNet50's optimizing in that
 * thread's malloc arenas for the life of the server (a first start measured 399 MiB RSS right after ready,
 * a later one 256). Once `signal` aborts, the child is killed and its lock and partial files removed.
 */
export function optimizeApart(init: WorkerInit, signal?: AbortSignal): Promise<ApartOutcome> {
  const cache = init.optimizedGraph;
  if (cache === undefined) return Promise.resolve({ outcome: 'not cached' });
  if (isSavedGraph(cache.file)) return Promise.resolve({ outcome: 'read' });
  const script = fileURLToPath(new URL('./optimize-process.js', import.meta.url));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, JSON.stringify(init)], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let answer = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (answer.length < MAX_ANSWER_BYTES) answer += chunk;
    });
    const onAbort = (): void => {
      child.kill('SIGKILL');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      signal?.removeEventListener('abort', onAbort);
      resolve({ outcome: 'failed', detail: error.message });
    });
    child.on('close', (code, killedBy) => {
      signal?.removeEventListener('abort', onAbort);
      if (killedBy !== null) {
        if (child.pid !== undefined) removeLeftovers(cache.file, child.pid);
        resolve({ outcome: 'failed', detail: `the optimizing process was ended by ${killedBy}` });
        return;
      }
      resolve(parseAnswer(answer, code));
    });
  });
}

function parseAnswer(answer: string, code: number | null): ApartOutcome {
  try {
    const parsed = JSON.parse(answer) as { outcome?: unknown; detail?: unknown };
    const detail = typeof parsed.detail === 'string' ? parsed.detail : undefined;
    switch (parsed.outcome) {
      case 'written':
      case 'read':
      case 'busy':
        return { outcome: parsed.outcome };
      case 'not cached':
        return detail === undefined ? { outcome: 'not cached' } : { outcome: 'not cached', detail };
      case 'failed':
        return { outcome: 'failed', detail: detail ?? 'no reason given' };
    }
  } catch {
    // Not an answer: the child died before writing one.
  }
  return { outcome: 'failed', detail: `the optimizing process exited with code ${String(code)}` };
}

/**
 * A killed writer's lock and temporary files (named after its pid, create-session.ts). Its weights file is
 * left: the graph may already be in place and naming it; if not, the next writer removes it as an orphan.
 */
function removeLeftovers(file: string, pid: number): void {
  try {
    if (readFileSync(`${file}.writing`, 'utf8') === String(pid)) rmSync(`${file}.writing`, { force: true });
  } catch {
    // No lock: the child died before taking it.
  }
  const dir = path.dirname(file);
  // Its temporary graph, and the lock it was about to link into place (claim in create-session.ts).
  const temporary = [
    `${path.basename(file)}.${String(pid)}-`,
    `${path.basename(file)}.writing.${String(pid)}-`,
  ];
  try {
    for (const name of readdirSync(dir))
      if (temporary.some((prefix) => name.startsWith(prefix)) && name.endsWith('.tmp'))
        rmSync(path.join(dir, name), { force: true });
  } catch {
    // The folder is gone: nothing to remove.
  }
}
