import { readdir, readFile, readlink } from 'node:fs/promises';
import { basename } from 'node:path';

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

/** Names already read, by pid: a process keeps its command line, and each sample would read it again. */
const names = new Map<number, Promise<string>>();

/** What a process of the local run is, for the breakdown: an emulator, a service under serverless offline, or else. */
function processName(pid: number): Promise<string> {
  let name = names.get(pid);
  if (!name) names.set(pid, (name = readProcessName(pid)));
  return name;
}

async function readProcessName(pid: number): Promise<string> {
  if (pid === process.pid) return 'this process';
  try {
    const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    const emulator = args.findIndex((arg) => arg.endsWith('emulator-process.ts'));
    if (emulator >= 0) return args[emulator + 1] ?? 'emulator';
    if (args.includes('offline')) return basename(await readlink(`/proc/${pid}/cwd`));
    return basename(args.find((arg, index) => index > 0 && arg !== '' && !arg.startsWith('-')) ?? args[0] ?? String(pid));
  } catch {
    return String(pid);
  }
}

/** Resident memory of a set of processes, two ways, and each process's share. */
export interface TreeMemory {
  /** Each page once: the sum of the processes' PSS (a page shared with processes outside the set counts in part). */
  proportional: number;
  /** The sum of their RSS: a page shared by n of them (Node's own code and libraries, in every process) counts n times. */
  residentSum: number;
  /** PSS of each process, largest first, by name (see processName). */
  byProcess: Array<{ name: string; proportional: number }>;
  /** When the PSS sum peaked, in ms since the sampling began. */
  peakAtMs?: number;
}

/**
 * Resident memory of this process and every process it started (serverless offline, its esbuild, the emulators), from
 * /proc; only this process's own on a system without it. Worker threads count in their process.
 */
async function treeMemory(root = process.pid): Promise<TreeMemory> {
  if ((await residentBytes(root)) === 0) {
    const { rss } = process.memoryUsage();
    return { proportional: rss, residentSum: rss, byProcess: [{ name: 'this process', proportional: rss }] };
  }
  const memory: TreeMemory = { proportional: 0, residentSum: 0, byProcess: [] };
  const pending = [root];
  while (pending.length) {
    const pid = pending.pop() as number;
    const [proportional, resident, children, name] = await Promise.all([proportionalBytes(pid), residentBytes(pid), childrenOf(pid), processName(pid)]);
    memory.proportional += proportional;
    memory.residentSum += resident;
    memory.byProcess.push({ name, proportional });
    pending.push(...children);
  }
  memory.byProcess.sort((a, b) => b.proportional - a.proportional);
  return memory;
}

/**
 * Samples the tree's memory until stopped (one sample at a time, every intervalMs): the peak of each sum (each at its
 * own moment), with the processes' shares at the moment of the PSS peak, and when that was.
 */
export function samplePeakMemory(intervalMs = 500): { stop(): Promise<TreeMemory> } {
  const began = performance.now();
  let peak: TreeMemory = { proportional: 0, residentSum: 0, byProcess: [] };
  const sample = async () => {
    const now = await treeMemory();
    const higher = now.proportional > peak.proportional;
    peak = {
      proportional: Math.max(peak.proportional, now.proportional),
      residentSum: Math.max(peak.residentSum, now.residentSum),
      byProcess: higher ? now.byProcess : peak.byProcess,
      peakAtMs: higher ? performance.now() - began : peak.peakAtMs,
    };
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
