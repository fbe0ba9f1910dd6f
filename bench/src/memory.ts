import { readdirSync, readFileSync } from 'node:fs';

const PAGE_BYTES = 4096;

/** Resident bytes of this process and every process it started (serverless offline, its workers), from /proc. */
export function treeResidentBytes(root = process.pid): number {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return process.memoryUsage().rss; // not Linux: this process only
  }
  const children = new Map<number, number[]>();
  const resident = new Map<number, number>();
  for (const name of entries) {
    try {
      // stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after its closing parenthesis.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const pid = Number(name);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
      resident.set(pid, Number(readFileSync(`/proc/${name}/statm`, 'utf8').split(' ')[1]) * PAGE_BYTES);
    } catch {
      // the process ended while being read
    }
  }
  let total = 0;
  const pending = [root];
  while (pending.length) {
    const pid = pending.pop() as number;
    total += resident.get(pid) ?? 0;
    pending.push(...(children.get(pid) ?? []));
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
