import type { RetryPolicy } from '@invoice-pipeline/retry';

/**
 * Retries of a sink's partial failures within one invocation. About 10 s at worst, well inside the function's timeout;
 * past it the record is reported as failed and Lambda retries it from the stream.
 */
export const SINK_RETRY: RetryPolicy = { maxAttempts: 9, baseDelayMs: 50, maxDelayMs: 5_000 };
