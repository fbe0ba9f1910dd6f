/** How retries of one operation are spaced: exponential backoff with full jitter, bounded. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Delay before retry number `retry` (1 for the first retry): uniform in [0, min(max, base * 2^(retry-1))].
 * Full jitter spreads the retries of many concurrent callers (AWS Architecture Blog, "Exponential Backoff And Jitter").
 */
export function backoffDelay(retry: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
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
