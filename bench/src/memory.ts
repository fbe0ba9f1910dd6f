import { readdir, readFile } from 'node:fs/promises';

const PAGE_BYTES = 4096;

/*
 * Read asynchronously (libuv's thread pool), not with readFileSync: the kernel walks a process's page tables to answer
 * smaps_rollup, ~20 ms for the run's processes while idle and more once their heaps grow, and a synchronous read every
 * 500 ms stalled this process's event loop, which serves the local Firehose, the Kinesis event source and the loader.
 */

/** Child process ids of a process (every thread's children), or none once it has ended. */
async function childrenOf(pid: number): Promise<number[]> {
  try {
    const threads = await readdir(`/proc/${pid}/task`);
    const lists = await Promise.all(threads.map((tid) => readFile(`/proc/${pid}/task/${tid}/children`, 'utf8')));
    return lists.flatMap((list) => list.split(' ').filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

async function residentBytes(pid: number): Promise<number> {
  try {
    return Number((await readFile(`/proc/${pid}/statm`, 'utf8')).split(' ')[1]) * PAGE_BYTES;
  } catch {
    return 0;
  }
}

/** A process's proportional set size: its own pages, and each page it shares divided by the processes sharing it. */
async function proportionalBytes(pid: number): Promise<number> {
  try {
    const kib = /^Pss:\s+(\d+) kB$/m.exec(await readFile(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1];
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
async function treeMemory(root = process.pid): Promise<TreeMemory> {
  if ((await residentBytes(root)) === 0) return { proportional: process.memoryUsage().rss, residentSum: process.memoryUsage().rss };
  const memory: TreeMemory = { proportional: 0, residentSum: 0 };
  const pending = [root];
  while (pending.length) {
    const pid = pending.pop() as number;
    const [proportional, resident, children] = await Promise.all([proportionalBytes(pid), residentBytes(pid), childrenOf(pid)]);
    memory.proportional += proportional;
    memory.residentSum += resident;
    pending.push(...children);
  }
  return memory;
}

/** Samples the tree's memory until stopped (one sample at a time, every intervalMs); the peak of each measure (each at its own moment). */
export function samplePeakMemory(intervalMs = 500): { stop(): Promise<TreeMemory> } {
  const peak: TreeMemory = { proportional: 0, residentSum: 0 };
  const sample = async () => {
    const now = await treeMemory();
    peak.proportional = Math.max(peak.proportional, now.proportional);
    peak.residentSum = Math.max(peak.residentSum, now.residentSum);
  };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const loop = async (): Promise<void> => {
    await sample();
    if (!stopped) timer = setTimeout(() => void (sampling = loop()), intervalMs);
  };
  let sampling = loop();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await sampling;
      await sample();
      return peak;
    },
  };
}
