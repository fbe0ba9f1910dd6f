/** How retries of one operation are spaced: exponential backoff with full jitter, bounded. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects: a caller that passes a signal looks at it). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The longest delay before retry number `retry` (1 for the first retry): min(max, base * 2^(retry-1)). */
export function backoffCeiling(retry: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
}

/**
 * Delay before retry number `retry` (1 for the first retry): uniform in [0, min(max, base * 2^(retry-1))].
 * Full jitter spreads the retries of many concurrent callers (AWS Architecture Blog, "Exponential Backoff And Jitter").
 */
export function backoffDelay(retry: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeiling(retry, policy));
}

export interface RetryHooks {
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/**
 * Sends `items` with `sendBatch` until none is left: `sendBatch` returns the items that were not accepted (a
 * BatchWriteItem's UnprocessedItems, a PutRecordBatch's failed entries), and only those are sent again, after a
 * backoff. Throws, naming how many are left, when the attempts run out: a partial failure is never taken for success.
 */
export async function sendUntilAccepted<T>(
  items: T[],
  sendBatch: (batch: T[]) => Promise<T[]>,
  policy: RetryPolicy,
  what: string,
  hooks: RetryHooks = {},
): Promise<void> {
  let pending = items;
  for (let attempt = 1; pending.length > 0; attempt += 1) {
    if (attempt > policy.maxAttempts) throw new Error(`${what}: ${pending.length} item(s) still not accepted after ${policy.maxAttempts} attempts`);
    if (attempt > 1) await (hooks.sleep ?? sleep)(backoffDelay(attempt - 1, policy, hooks.random));
    pending = await sendBatch(pending);
  }
}
export * from './chunk';
