import { readFileSync } from 'node:fs';

/** A process's resident set size in bytes (VmRSS, all its threads), or undefined once it is gone. */
export function readRssBytes(pid: number): number | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  // A zombie has no VmRSS line: it holds no memory any more.
  return kib === undefined ? undefined : Number(kib) * 1024;
}

export const MIB = 2 ** 20;
