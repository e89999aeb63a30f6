import { rmSync } from 'node:fs';
import path from 'node:path';
import type { SkiffOptions } from './bench-server.js';
import { rssMiB, startSkiff } from './bench-server.js';

/** One start of `skiff serve`: from spawning it to its ready line, and its RSS then. */
export interface StartFigure {
  readonly readyMs: number;
  readonly rssMiB: number;
  /** The server's own account of its start (its "ready in" line), for the JSON record. */
  readonly breakdown?: string;
}

/** A model's first start (no saved optimized graph) and a later one on the same cache folder. */
export interface FirstAndLater {
  readonly first: StartFigure;
  readonly later: StartFigure;
}

/** How long RSS is left to settle after the ready line: the workers' warm-up buffers are freed by then. */
const SETTLE_MS = 500;

async function oneStart(options: SkiffOptions): Promise<StartFigure> {
  const server = await startSkiff(options);
  try {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    return {
      readyMs: server.coldStartMs,
      rssMiB: rssMiB(server.child.pid).rss,
      ...(server.breakdown === undefined ? {} : { breakdown: server.breakdown }),
    };
  } finally {
    server.stop();
    await new Promise((resolve) => server.child.once('exit', resolve));
  }
}

/**
 * Starts the server twice on `cacheDir`: on a folder without this model's optimized graph the first start
 * optimizes and saves it (as every pod whose cache is an emptyDir does), the second starts from it.
 */
async function firstAndLater(options: SkiffOptions, cacheDir: string): Promise<FirstAndLater> {
  // No drain delay: nothing balances load to these servers, and each would otherwise take 5 s to stop.
  const env = { ...options.env, SKIFF_CACHE_DIR: cacheDir, SKIFF_DRAIN_DELAY_MS: '0' };
  const first = await oneStart({ ...options, env });
  const later = await oneStart({ ...options, env });
  return { first, later };
}

export interface StartFigures {
  /** `skiff serve` with no model named: the embedded default model (issue 16's "ready" target). */
  readonly embedded: FirstAndLater;
  readonly fp32: FirstAndLater;
  readonly int8?: FirstAndLater;
}

/**
 * First and later starts of the embedded model and the bench's ResNet50s, in the default layout, on
 * `cacheDir` with its optimized graphs removed first. The bench's servers then start on the same folder,
 * from saved graphs: without this, their figures would hide what a first start costs, or include it only
 * on a machine's very first run.
 */
export async function measureStarts(
  cacheDir: string,
  fp32: string,
  int8: string | undefined,
  labels: string,
  layout: { readonly workers: number; readonly threads: number },
): Promise<StartFigures> {
  rmSync(path.join(cacheDir, 'optimized-graphs'), { recursive: true, force: true });
  const common = { workers: layout.workers, threadsPerWorker: layout.threads };
  return {
    embedded: await firstAndLater({ name: 'embedded model', ...common }, cacheDir),
    fp32: await firstAndLater({ name: 'fp32', model: fp32, labels, ...common }, cacheDir),
    ...(int8 === undefined
      ? {}
      : { int8: await firstAndLater({ name: 'int8', model: int8, labels, ...common }, cacheDir) }),
  };
}
