import { forEachLimited } from './chunk';

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

/** An item to send with whoever it belongs to (e.g. the invoice of a write request): failures are told per owner. */
export interface Owned<O, T> {
  owner: O;
  value: T;
}

/** What a call's error handler made of the call: items to send again, and owners that failed (with why). */
export interface CallRecovery<O, T> {
  left: Owned<O, T>[];
  failed: Map<O, Error>;
}

export interface SendOwnedOptions<O, T> {
  /** Cuts the pending items into calls within the service's limits. */
  chunk: (items: Owned<O, T>[]) => Owned<O, T>[][];
  /** One call; resolves to its items that were not accepted (UnprocessedItems, FailedPutCount entries). */
  send: (call: Owned<O, T>[]) => Promise<Owned<O, T>[]>;
  /** Takes over a call that threw (e.g. to isolate one refused item); undefined fails the owners of the call. */
  recover?: (call: Owned<O, T>[], error: unknown) => Promise<CallRecovery<O, T> | undefined>;
  retry: RetryPolicy;
  /** Names the target in errors ("DynamoDB invoices"). */
  what: string;
  /** Calls in flight at once. */
  concurrency: number;
  hooks?: RetryHooks;
}

const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

/**
 * Sends owned items in calls (`chunk`), each call once per attempt, until every item is accepted or the attempts run
 * out: only the items a call did not accept are sent again, after a backoff. Resolves to each owner whose items were
 * not all accepted, with why; an owner that failed sends nothing more, so its neighbours in a call are not held back.
 * A partial failure is never taken for success.
 */
export async function sendOwnedUntilAccepted<O, T>(items: Owned<O, T>[], options: SendOwnedOptions<O, T>): Promise<Map<O, Error>> {
  const failed = new Map<O, Error>();
  const failOwners = (owned: Owned<O, T>[], why: Error) => {
    for (const item of owned) if (!failed.has(item.owner)) failed.set(item.owner, why);
  };
  let pending = items;
  for (let attempt = 1; pending.length > 0; attempt += 1) {
    if (attempt > options.retry.maxAttempts) {
      const left = new Map<O, number>();
      for (const item of pending) left.set(item.owner, (left.get(item.owner) ?? 0) + 1);
      for (const [owner, count] of left) failed.set(owner, new Error(`${options.what}: ${count} item(s) still not accepted after ${options.retry.maxAttempts} attempts`));
      break;
    }
    if (attempt > 1) await (options.hooks?.sleep ?? sleep)(backoffDelay(attempt - 1, options.retry, options.hooks?.random));
    const left: Owned<O, T>[] = [];
    await forEachLimited(options.chunk(pending), options.concurrency, async (call) => {
      try {
        left.push(...(await options.send(call)));
      } catch (error) {
        const recovered = await options.recover?.(call, error);
        if (!recovered) return failOwners(call, asError(error));
        left.push(...recovered.left);
        for (const [owner, why] of recovered.failed) if (!failed.has(owner)) failed.set(owner, why);
      }
    });
    pending = left.filter((item) => !failed.has(item.owner));
  }
  return failed;
}

/**
 * Sends `items` in one call per attempt with `sendBatch` until none is left: `sendBatch` returns the items that were
 * not accepted, and only those are sent again, after a backoff. Throws, naming how many are left, when the attempts
 * run out (or what `sendBatch` threw): the one-owner case of `sendOwnedUntilAccepted`.
 */
export async function sendUntilAccepted<T>(
  items: T[],
  sendBatch: (batch: T[]) => Promise<T[]>,
  policy: RetryPolicy,
  what: string,
  hooks: RetryHooks = {},
): Promise<void> {
  const owner = Symbol(what);
  const failed = await sendOwnedUntilAccepted(
    items.map((value) => ({ owner, value })),
    {
      chunk: (pending) => [pending],
      send: async (call) => (await sendBatch(call.map((item) => item.value))).map((value) => ({ owner, value })),
      retry: policy,
      what,
      concurrency: 1,
      hooks,
    },
  );
  const why = failed.get(owner);
  if (why) throw why;
}
export * from './chunk';
