import { performance } from 'node:perf_hooks';
import { backoffCeiling, sleep } from '@invoice-pipeline/retry';

export interface BackoffPolicy {
  /** Delay before the first retry; doubled for each one after it. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export type RetryOutcome<T> =
  | { status: 'done'; value: T }
  /** The window passed with the last attempt still failing. */
  | { status: 'expired'; error: unknown; attempts: number }
  /** The emulator is stopping: the work is left where it is. */
  | { status: 'aborted'; error: unknown; attempts: number };

export interface RetryOptions extends BackoffPolicy {
  /** How long after the first attempt retries may still start; Infinity retries until aborted. */
  windowMs: number;
  signal: AbortSignal;
  onRetry: (error: unknown) => void;
}

/**
 * Runs `operation` until it succeeds, retrying with exponential backoff while the window lasts, as Firehose does for
 * S3 delivery and error output. The window uses the monotonic clock, so a test's fixed `now()` cannot stall it.
 */
export async function retryWithin<T>(operation: () => Promise<T>, options: RetryOptions): Promise<RetryOutcome<T>> {
  const started = performance.now();
  for (let attempts = 1; ; attempts += 1) {
    try {
      return { status: 'done', value: await operation() };
    } catch (error) {
      if (options.signal.aborted) return { status: 'aborted', error, attempts };
      const remaining = options.windowMs - (performance.now() - started);
      if (remaining <= 0) return { status: 'expired', error, attempts };
      // Firehose backs off exponentially without jitter: one delivery stream retries one thing at a time.
      const delay = Math.min(backoffCeiling(attempts, options), remaining);
      await sleep(delay, options.signal);
      if (options.signal.aborted) return { status: 'aborted', error, attempts };
      options.onRetry(error);
    }
  }
}
