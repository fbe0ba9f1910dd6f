export interface RetryPolicy {
  /** Attempts after the first. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 8, baseDelayMs: 50, maxDelayMs: 5_000 };

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Full-jitter exponential backoff (AWS Architecture Blog): spreads retries of many consumers apart. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random = Math.random): number {
  return Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt));
}

/**
 * Sends `items` with `sendBatch` until none is left unprocessed: `sendBatch` returns the items that were not
 * accepted (UnprocessedItems, FailedPutCount entries). Throws, naming what is left, when retries run out.
 */
export async function sendUntilAccepted<T>(items: T[], sendBatch: (batch: T[]) => Promise<T[]>, policy: RetryPolicy, what: string): Promise<void> {
  let pending = items;
  for (let attempt = 0; pending.length > 0; attempt += 1) {
    if (attempt > policy.retries) throw new Error(`${what}: ${pending.length} item(s) still not accepted after ${policy.retries} retries`);
    if (attempt > 0) await sleep(backoffDelay(attempt, policy));
    pending = await sendBatch(pending);
  }
}
