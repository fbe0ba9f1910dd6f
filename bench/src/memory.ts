import { readdirSync, readFileSync } from 'node:fs';

const PAGE_BYTES = 4096;

/** Child process ids of a process (every thread's children), or none once it has ended. */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) => readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

function residentBytes(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE_BYTES;
  } catch {
    return 0;
  }
}

/** A process's proportional set size: its own pages, and each page it shares divided by the processes sharing it. */
function proportionalBytes(pid: number): number {
  try {
    const kib = /^Pss:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1];
    return kib === undefined ? residentBytes(pid) : Number(kib) * 1024;
  } catch {
    return residentBytes(pid);
  }
}

/** Resident memory of a set of processes, two ways. */
export interface TreeMemory {
  /** Each page once: the sum of the processes' PSS (a page shared with processes outside the set counts in part). */
  proportional: number;
  /** The sum of their RSS: a page shared by n of them (Node's own code and libraries, in every process) counts n times. */
  residentSum: number;
}

/**
 * Resident memory of this process and every process it started (serverless offline, its esbuild, the emulators), from
 * /proc; only this process's own on a system without it. Worker threads count in their process.
 */
function treeMemory(root = process.pid): TreeMemory {
  if (residentBytes(root) === 0) return { proportional: process.memoryUsage().rss, residentSum: process.memoryUsage().rss };
  const memory: TreeMemory = { proportional: 0, residentSum: 0 };
  const pending = [root];
  while (pending.length) {
    const pid = pending.pop() as number;
    memory.proportional += proportionalBytes(pid);
    memory.residentSum += residentBytes(pid);
    pending.push(...childrenOf(pid));
  }
  return memory;
}

/** Samples the tree's memory until stopped; returns the peak of each measure (each at its own moment). */
export function samplePeakMemory(intervalMs = 500): { stop(): TreeMemory } {
  const peak: TreeMemory = { proportional: 0, residentSum: 0 };
  const sample = () => {
    const now = treeMemory();
    peak.proportional = Math.max(peak.proportional, now.proportional);
    peak.residentSum = Math.max(peak.residentSum, now.residentSum);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}
