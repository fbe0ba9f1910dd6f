import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Connection errors, timeouts and non-2xx answers. */
  errors: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /**
   * Before measuring, send one request per client at once and wait for every answer: serverless-offline starts a
   * worker (a cold start) per concurrent request, and on a busy machine 50 cold starts outlast any timed warm-up.
   */
  primeWorkers?: boolean;
}

const PRIME_TIMEOUT_MS = 300_000;

async function primeWorkers(options: LoadOptions): Promise<void> {
  const signal = AbortSignal.timeout(PRIME_TIMEOUT_MS);
  const init = { method: options.method ?? 'GET', headers: options.headers ?? {}, signal, ...(options.body !== undefined ? { body: options.body } : {}) };
  await Promise.all(Array.from({ length: options.connections }, async () => (await fetch(options.url, init)).arrayBuffer()));
}

const AUTOCANNON = require.resolve('autocannon/autocannon.js');
const WARMUP_SECONDS = 2;

/**
 * A fixed number of concurrent clients hammering one URL for a few seconds, with autocannon in a process of its own:
 * the local stack's emulators share this process's event loop, and a load generator there would slow them down.
 */
export async function load(options: LoadOptions): Promise<LoadResult> {
  // The warm-up (same clients, not counted) lets serverless-offline start a worker per concurrent client first,
  // as Lambda's cold starts would be over by then in a steady load.
  if (options.primeWorkers) await primeWorkers(options);
  const warmup = ['--warmup', '[', '-c', String(options.connections), '-d', String(WARMUP_SECONDS), ']'];
  const args = [AUTOCANNON, '--json', ...warmup, '--connections', String(options.connections), '--duration', String(options.seconds), '--method', options.method ?? 'GET'];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('--headers', `${name}=${value}`);
  if (options.body !== undefined) args.push('--body', options.body);
  args.push(options.url);
  const { stdout } = await promisify(execFile)(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 });
  // With a warm-up autocannon prints one JSON result per phase, one per line; the measured one is last.
  const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    errors: number;
    timeouts: number;
    non2xx: number;
  };
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}
