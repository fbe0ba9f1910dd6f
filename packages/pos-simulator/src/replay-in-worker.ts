import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Totals } from '@invoice-pipeline/transactions/files';
import type { ReplayOptions, ReplayProgress, ReplaySummary } from './replay';

/** ReplayOptions that can cross to another thread: no functions, no signal. */
export type WorkerReplayOptions = Omit<ReplayOptions, 'fetch' | 'clock' | 'random' | 'signal' | 'onProgress' | 'onInvoice'>;

/** Each line of every invoice read and then of each dump, once per (invoiceNo, lineNo): what a warehouse fed by both paths holds. */
export interface UnionTotals {
  totals: Totals;
  /** Lines seen again (a dump's line the replay also sent). */
  repeated: number;
  /** Each dump's own totals, in the order given. */
  dumps: Totals[];
}

export interface WorkerReplayRequest {
  options: WorkerReplayOptions;
  union?: { dumps: string[] };
  /** Whether to post each ReplayProgress back. */
  progress?: boolean;
}

export interface WorkerReplayExtras {
  /** Also tally the union a warehouse fed by both paths holds (UnionTotals). */
  union?: { dumps: string[] };
  /** Hears the replay's progress, on this thread. */
  onProgress?: (progress: ReplayProgress) => void;
}

export interface WorkerReplayResult {
  summary: ReplaySummary;
  union?: UnionTotals;
}

// The worker runs TypeScript through tsx's require hook, as the local stack's emulator processes do.
const WORKER_SOURCE = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(join(__dirname, 'replay-worker.ts'))});`;

/**
 * replay() on a thread of its own, as point-of-sale systems post from machines of their own. In one process with the
 * local pipeline (API router, Firehose, warehouse, event source), the replay's reading, grouping, batching and
 * tallying shared one busy thread with them: that thread was ~95% busy through a whole-dataset replay. With `union`,
 * the thread also tallies every invoice it reads and then each dump's lines, keyed (see UnionTotals).
 */
export function replayInWorker(options: WorkerReplayOptions, extras: WorkerReplayExtras = {}): Promise<WorkerReplayResult> {
  const request: WorkerReplayRequest = { options, ...(extras.union ? { union: extras.union } : {}), progress: extras.onProgress !== undefined };
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: request });
    let settled = false;
    worker.on('message', (message: { progress?: ReplayProgress; result?: WorkerReplayResult; error?: { message: string; stack?: string } }) => {
      if (message.progress) return extras.onProgress?.(message.progress);
      settled = true;
      if (message.result) resolve(message.result);
      else reject(Object.assign(new Error(`replay: ${message.error?.message ?? 'failed'}`), { stack: message.error?.stack }));
      void worker.terminate();
    });
    worker.once('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`replay: the worker thread ended (exit code ${code}) without a result`));
    });
  });
}
