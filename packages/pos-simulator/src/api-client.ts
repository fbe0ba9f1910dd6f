import { AcceptedReply, ErrorReply } from '@invoice-pipeline/transactions';
import { backoffDelay, type RetryPolicy } from '@invoice-pipeline/retry';
import { systemClock, type Clock } from './pacing';

export type { RetryPolicy };

/** Retries of one request: exponential backoff with full jitter, and never sooner than the server's Retry-After. */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 250, maxDelayMs: 15_000 };

export type PostResult =
  | { kind: 'accepted'; status: number; reply: AcceptedReply; attempts: number }
  | { kind: 'rejected'; status: number; reply: ErrorReply; attempts: number }
  | { kind: 'failed'; status?: number; reason: string; attempts: number };

export interface ApiClientOptions {
  /** Base URL of the API; requests go to `${url}/invoices`. */
  url: string;
  apiKey: string;
  retry: RetryPolicy;
  timeoutMs: number;
  fetch?: typeof fetch;
  clock?: Clock;
  random?: () => number;
  /** Called before each retry, with why. */
  onRetry?: (reason: string) => void;
}

/** Worth another try: throttling (429, 503), a gateway or server hiccup, or no answer at all. */
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const MAX_RETRY_AFTER_MS = 60_000;

function retryAfterMs(header: string | null): number {
  if (!header) return 0;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, seconds * 1000));
  const date = Date.parse(header);
  return Number.isNaN(date) ? 0 : Math.min(MAX_RETRY_AFTER_MS, Math.max(0, date - Date.now()));
}

function errorReplyOf(status: number, text: string): ErrorReply {
  try {
    const parsed = ErrorReply.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
  } catch {
    // not JSON: keep the text
  }
  return { message: text.slice(0, 300) || `HTTP ${status}` };
}

/** POSTs one body to /invoices, retrying what is worth retrying. Never throws for HTTP or network failures. */
export async function postInvoices(body: string, options: ApiClientOptions): Promise<PostResult> {
  const doFetch = options.fetch ?? fetch;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const endpoint = `${options.url.replace(/\/+$/, '')}/invoices`;

  for (let attempt = 1; ; attempt += 1) {
    let status: number | undefined;
    let reason: string;
    let serverDelayMs = 0;
    try {
      const response = await doFetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': options.apiKey },
        body,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      status = response.status;
      const text = await response.text();
      if (status === 202 || status === 200) {
        const reply = AcceptedReply.safeParse(JSON.parse(text));
        if (reply.success) return { kind: 'accepted', status, reply: reply.data, attempts: attempt };
        return { kind: 'failed', status, reason: `HTTP ${status} with a body that is not an AcceptedReply`, attempts: attempt };
      }
      const reply = errorReplyOf(status, text);
      if (!RETRYABLE_STATUS.has(status)) return { kind: 'rejected', status, reply, attempts: attempt };
      reason = `HTTP ${status}: ${reply.message}`;
      serverDelayMs = retryAfterMs(response.headers.get('retry-after'));
    } catch (error) {
      const { name, message, cause } = error as Error & { cause?: { code?: string } };
      reason = name === 'TimeoutError' ? `no reply within ${options.timeoutMs} ms` : `network error: ${cause?.code ?? message}`;
    }
    if (attempt >= options.retry.maxAttempts) return { kind: 'failed', status, reason: `${reason} (gave up after ${attempt} attempts)`, attempts: attempt };
    options.onRetry?.(reason);
    await clock.sleep(Math.max(serverDelayMs, backoffDelay(attempt, options.retry, random)));
  }
}
