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

/**
 * Resident bytes of this process and every process it started (serverless offline, its esbuild), from /proc; only
 * this process's own on a system without it. Worker threads (the offline Lambdas) count in their process.
 */
function treeResidentBytes(root = process.pid): number {
  if (residentBytes(root) === 0) return process.memoryUsage().rss;
  let total = 0;
  const pending = [root];
  while (pending.length) {
    const pid = pending.pop() as number;
    total += residentBytes(pid);
    pending.push(...childrenOf(pid));
  }
  return total;
}

/** Samples the tree's resident memory until stopped; returns the peak. */
export function samplePeakMemory(intervalMs = 500): { stop(): number } {
  let peak = treeResidentBytes();
  const timer = setInterval(() => {
    peak = Math.max(peak, treeResidentBytes());
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, treeResidentBytes());
    },
  };
}
