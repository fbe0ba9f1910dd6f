import { ConfigurationError, requiredEnv } from '@invoice-pipeline/function-config';
import type { RetryPolicy } from '@invoice-pipeline/retry';
import { parseKeyBindings, type KeyBindings } from '@invoice-pipeline/transactions';

/** Everything post-invoices reads from its environment, read once per container and checked. */
export interface PostInvoicesConfig {
  streamName: string;
  retry: RetryPolicy;
  /** What a 503 tells the caller to wait, in seconds. */
  retryAfterSeconds: number;
  /** Which store(s) each API key speaks for (STORE_API_KEYS, built by config/api-keys.js). */
  keyBindings: KeyBindings;
}

/** A request body larger than this is refused with 413 before it is parsed (Lambda's own limit is 6 MB). */
export const MAX_REQUEST_BYTES = 5 * 1024 * 1024;

/**
 * PutRecords retries of failed records. Worst case the waits add up to about 3 s, well inside the function's
 * 10 s timeout and API Gateway's 29 s; the handler also stops early when the invocation runs out of time.
 */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 1_600 };

const STREAM_NAME_PATTERN = /^[a-zA-Z0-9_.-]{1,128}$/;

const required = (env: NodeJS.ProcessEnv, name: string, hint: string) => requiredEnv(env, 'post-invoices', name, hint);

/** Reads and checks the function's environment; throws a ConfigurationError naming the variable at fault. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): PostInvoicesConfig {
  const streamName = required(env, 'STREAM_NAME', 'the invoice stream, set by serverless.yml');
  if (!STREAM_NAME_PATTERN.test(streamName)) throw new ConfigurationError(`post-invoices: STREAM_NAME is not a Kinesis stream name: ${JSON.stringify(streamName)}`);
  required(env, 'AWS_REGION', 'set by Lambda, serverless-offline and sls invoke local');
  // Read by the SDK itself; checked here so a typo fails at cold start rather than on the first request.
  const endpoint = env.AWS_ENDPOINT_URL_KINESIS;
  if (endpoint !== undefined && endpoint !== '' && !URL.canParse(endpoint)) {
    throw new ConfigurationError(`post-invoices: AWS_ENDPOINT_URL_KINESIS is not a URL: ${JSON.stringify(endpoint)}`);
  }
  const bindingsJson = required(env, 'STORE_API_KEYS', 'the API keys bound to their stores, set by serverless.yml from config/api-keys.js');
  let keyBindings: KeyBindings;
  try {
    keyBindings = parseKeyBindings(bindingsJson);
  } catch (error) {
    throw new ConfigurationError(`post-invoices: STORE_API_KEYS ${(error as Error).message}`);
  }
  return { streamName, retry: DEFAULT_RETRY, retryAfterSeconds: 2, keyBindings };
}
