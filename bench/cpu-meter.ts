/**
 * Where the benchmark's CPU goes, from Linux's own counters: a server's threads (the main thread apart), the
 * bench process itself (the load client, or ONNX Runtime alone), and the whole machine, so that a round in
 * which something else ran is called noisy instead of being taken for a slow server.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Linux's USER_HZ: /proc/stat and /proc/<pid>/stat count CPU in hundredths of a second. */
const TICK_MS = 10;

/** CPU a process has run so far, in ms. */
export interface ProcessCpu {
  /** Every thread's, from the scheduler's nanosecond counters (threads that have exited are not counted). */
  readonly threadsMs: number;
  /** The main thread's: the event loop, where HTTP, JSON and the route handlers run. */
  readonly mainMs: number;
  /** utime + stime of the process and every descendant (gunicorn's workers), dead threads included. */
  readonly treeMs: number;
  /** Each thread's CPU by thread id, with its name (node-MainThread, WorkerThread, libuv-worker, ...). */
  readonly threads: ReadonlyMap<string, { readonly name: string; readonly ms: number }>;
}

function readNumber(file: string, field: number): number {
  try {
    return Number(readFileSync(file, 'utf8').split(' ')[field] ?? NaN);
  } catch {
    return NaN;
  }
}

/** utime + stime of one process, in ms (fields 14 and 15 of /proc/<pid>/stat, after the parenthesized name). */
function statMs(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** The process and its descendants, from each process's parent in /proc/<pid>/stat. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/stat`, 'utf8');
      const parent = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(parent) ?? [];
      list.push(Number(name));
      children.set(parent, list);
    } catch {
      // It ended while we looked.
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i] ?? -1) ?? []));
  return tree;
}

function threadName(pid: number, tid: string): string {
  try {
    return readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/**
 * CPU used between two readings by each thread name, threads of a name added: the threads alive at the second
 * reading, so that one ending in between (libvips and libuv let idle ones go) does not subtract its life's CPU.
 */
export function threadDeltas(before: ProcessCpu, after: ProcessCpu): Map<string, number> {
  const byName = new Map<string, number>();
  for (const [tid, { name, ms }] of after.threads)
    byName.set(name, (byName.get(name) ?? 0) + ms - (before.threads.get(tid)?.ms ?? 0));
  return byName;
}

/** threadDeltas in ms per `per`, largest first, as "name 0.12, ...". */
export function threadShares(before: ProcessCpu, after: ProcessCpu, per: number): string {
  return [...threadDeltas(before, after)]
    .map(([name, ms]) => [name, ms / per] as const)
    .filter(([, ms]) => ms >= 0.005)
    .sort((a, b) => b[1] - a[1])
    .map(([name, ms]) => `${name} ${ms.toFixed(2)}`)
    .join(', ');
}

export function processCpu(pid: number): ProcessCpu {
  let threadsNs = 0;
  let mainNs = 0;
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    // The process is gone: zeros.
  }
  const threads = new Map<string, { name: string; ms: number }>();
  for (const tid of tasks) {
    const ns = readNumber(`/proc/${pid}/task/${tid}/schedstat`, 0);
    if (!Number.isFinite(ns)) continue;
    threadsNs += ns;
    if (tid === String(pid)) mainNs = ns;
    threads.set(tid, { name: threadName(pid, tid), ms: ns / 1e6 });
  }
  const treeMs = processTree(pid).reduce((sum, id) => sum + statMs(id), 0);
  return { threadsMs: threadsNs / 1e6, mainMs: mainNs / 1e6, treeMs, threads };
}

/** The whole machine's busy CPU (all cores, everything but idle and iowait) and that of the bench's own tree. */
export interface MachineCpu {
  readonly busyMs: number;
  readonly oursMs: number;
  readonly at: number;
}

export function machineCpu(): MachineCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const busy = ticks.slice(0, 8).reduce((sum, t, i) => (i === 3 || i === 4 ? sum : sum + t), 0);
  const oursMs = processTree(process.pid).reduce((sum, id) => sum + statMs(id), 0);
  return { busyMs: busy * TICK_MS, oursMs, at: performance.now() };
}

/**
 * Cores' worth of CPU that neither the bench nor anything it started used between two readings: other
 * people's tests, builds, a browser. A tick's resolution and accounting skew leave a few hundredths of noise.
 */
export function otherCores(before: MachineCpu, after: MachineCpu): number {
  const wallMs = after.at - before.at;
  if (wallMs <= 0) return 0;
  const other = after.busyMs - before.busyMs - (after.oursMs - before.oursMs);
  return Math.max(0, other / wallMs);
}

/** This process's CPU so far (the load client's, or ONNX Runtime's in the engine-alone runs), in ms. */
export function selfCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}
