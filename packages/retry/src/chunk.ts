/** An AWS batch call's quotas: at most this many items, and at most this many bytes in all. */
export interface BatchLimits {
  maxCount?: number;
  maxBytes?: number;
}

/**
 * Splits items, in order, into the fewest consecutive runs within a batch call's quotas (PutRecords: 500 records and
 * 5 MiB; PutRecordBatch: 500 and 4 MiB; BatchWriteItem: 25; a Firehose record: 1,000 KiB of rows). An item larger
 * than maxBytes on its own gets a run of its own: refusing it is the caller's rule, not the chunker's.
 */
export function chunkWithin<T>(items: Iterable<T>, limits: BatchLimits, sizeOf: (item: T) => number = () => 0): T[][] {
  const maxCount = limits.maxCount ?? Infinity;
  const maxBytes = limits.maxBytes ?? Infinity;
  if (!(maxCount >= 1) || !(maxBytes > 0)) throw new RangeError('batch limits must be positive');
  const runs: T[][] = [];
  let run: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (run.length > 0 && (run.length >= maxCount || bytes + size > maxBytes)) {
      runs.push(run);
      run = [];
      bytes = 0;
    }
    run.push(item);
    bytes += size;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/**
 * Runs `work` over `items` with at most `limit` calls in flight (the batch calls of one chunking, a file's moves).
 * Each item's failure is the work's own to handle: `work` is expected to catch what it can recover from.
 */
export async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
