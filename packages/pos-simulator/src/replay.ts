import type { Invoice } from '@invoice-pipeline/transactions';
import { BUNDLED_DATASET, groupInvoices, readSource, Tally, type BadRow, type RowResult, type TextEncodingMode, type Totals } from '@invoice-pipeline/transactions/files';
import { DEFAULT_RETRY, postInvoices, type ApiClientOptions, type PostResult, type RetryPolicy } from './api-client';
import { oneByOneInvoiceNo } from './one-by-one';
import { SpeedClock, systemClock, TokenBucket, type Clock } from './pacing';
import { storeIdFor } from './stores';

export interface ReplayOptions {
  /** Base URL of the ingest API (POST goes to `${url}/invoices`). */
  url: string;
  apiKey: string;
  /** A CSV, a .csv.gz or a folder of them; the bundled dataset by default. */
  source?: string;
  encoding?: TextEncodingMode;
  /** Simulated POS stores the invoices are spread over (each invoice always goes to the same store). */
  stores?: number;
  /** Invoices per request (1-500); a request holds invoices of one store. */
  batchSize?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Replay at this multiple of the original pace (3600: one hour of trading per second); as fast as possible if absent. */
  speed?: number;
  /** At most this many invoices (stream records) per second. */
  maxRecordsPerSecond?: number;
  /** At most this many request bytes per second. */
  maxBytesPerSecond?: number;
  /** One request per CSV row, each a one-line invoice with a distinct number (see one-by-one.ts). Benchmarks only. */
  oneByOne?: boolean;
  /** Read only the first N data rows of the source. */
  limitRows?: number;
  retry?: RetryPolicy;
  requestTimeoutMs?: number;
  /** Stops reading when aborted; what was read is still sent and accounted for. */
  signal?: AbortSignal;
  onProgress?: (progress: ReplayProgress) => void;
  /** Each invoice as read from the source, before it is queued (e.g. to tally what the sinks must hold without reading the source again). */
  onInvoice?: (invoice: Invoice) => void;
  /** Test seams. */
  fetch?: typeof fetch;
  clock?: Clock;
  random?: () => number;
}

export interface Count {
  invoices: number;
  lines: number;
}

export interface ReplayProgress {
  /** Data rows read from the source so far. */
  rows: number;
  accepted: Count;
  rejected: Count;
  failed: Count;
  badRows: number;
  requests: number;
  retried: number;
  inFlight: number;
  elapsedMs: number;
}

/** Why some invoices were not accepted, with how many and a few of their numbers. */
export interface Reason {
  reason: string;
  status?: number;
  invoices: number;
  lines: number;
  examples: string[];
}

export interface ReplaySummary {
  source: string;
  mode: 'invoices' | 'one-by-one';
  stores: number;
  batchSize: number;
  concurrency: number;
  speed?: number;
  /** Data rows read from the source (good and bad). */
  rows: number;
  /** Rows that could not be read as invoice lines; never sent. */
  badRows: number;
  badRowSamples: BadRow[];
  /** Invoices (and their lines) sent, each counted once however many times it was retried. */
  sent: Count;
  accepted: Count;
  rejected: Count & { reasons: Reason[] };
  failed: Count & { reasons: Reason[] };
  /** HTTP requests made, retries included. */
  requests: number;
  /** Requests that were retries. */
  retried: number;
  /** rows - (accepted + rejected + failed lines) - bad rows: 0 when every row is accounted for. */
  unaccounted: number;
  /** Set when the replay stopped before the end of the source. */
  stopped?: string;
  /** Accepted lines: invoices, lines, exact revenue by type; what the sinks must hold. */
  totals: Totals;
  seconds: number;
}

const MAX_BAD_ROW_SAMPLES = 20;
const MAX_EXAMPLES = 5;
/** A request body stays under the API's 5 MiB with room to spare. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Long pacing waits are cut into steps so that a stop is noticed. */
const SLEEP_STEP_MS = 500;

interface Outgoing {
  invoice: Invoice;
  json: string;
}

/** A path of a problem without its invoice index and positions, so that reasons aggregate: `lines[].unitPrice`. */
function genericPath(path: string): string {
  return path.replace(/^invoices\[\d+\]\.?/, '').replace(/\[\d+\]/g, '[]') || '(invoice)';
}

class ReasonBook {
  private readonly reasons = new Map<string, Reason>();
  readonly count: Count = { invoices: 0, lines: 0 };

  add(reason: string, status: number | undefined, invoice: Invoice): void {
    const entry = this.reasons.get(reason) ?? { reason, status, invoices: 0, lines: 0, examples: [] };
    entry.invoices += 1;
    entry.lines += invoice.lines.length;
    if (entry.examples.length < MAX_EXAMPLES) entry.examples.push(invoice.invoiceNo);
    this.reasons.set(reason, entry);
    this.count.invoices += 1;
    this.count.lines += invoice.lines.length;
  }

  list(): Reason[] {
    return [...this.reasons.values()].sort((a, b) => b.invoices - a.invoices);
  }
}

/**
 * Replays a source as POS stores posting invoices: reads it (readSource + groupInvoices, or row by row in one-by-one
 * mode), spreads invoices over stores, batches, paces, sends with retries, and accounts for every row.
 * Resolves with the summary; rejects only on a programming error or an unreadable source.
 */
export async function replay(options: ReplayOptions): Promise<ReplaySummary> {
  const source = options.source ?? BUNDLED_DATASET;
  const stores = options.stores ?? 10;
  const batchSize = options.oneByOne ? 1 : (options.batchSize ?? 100);
  const concurrency = options.concurrency ?? 4;
  const clock = options.clock ?? systemClock;
  if (!Number.isInteger(stores) || stores < 1 || stores > 999) throw new RangeError('stores must be 1-999');
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 500) throw new RangeError('batch size must be 1-500');
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be at least 1');

  const client: ApiClientOptions = {
    url: options.url,
    apiKey: options.apiKey,
    retry: options.retry ?? DEFAULT_RETRY,
    timeoutMs: options.requestTimeoutMs ?? 30_000,
    fetch: options.fetch,
    clock,
    random: options.random,
  };
  const records = options.maxRecordsPerSecond ? new TokenBucket(options.maxRecordsPerSecond, options.maxRecordsPerSecond, clock) : undefined;
  const bytes = options.maxBytesPerSecond ? new TokenBucket(options.maxBytesPerSecond, options.maxBytesPerSecond, clock) : undefined;
  const speed = options.speed ? new SpeedClock(options.speed, clock) : undefined;

  const started = clock.now();
  const tally = new Tally();
  const rejected = new ReasonBook();
  const failed = new ReasonBook();
  const accepted: Count = { invoices: 0, lines: 0 };
  const sent: Count = { invoices: 0, lines: 0 };
  const badRowSamples: BadRow[] = [];
  let rows = 0;
  let badRows = 0;
  let requests = 0;
  let retried = 0;
  let stopped: string | undefined;
  const inFlight = new Set<Promise<void>>();
  let crash: unknown;

  const stop = (reason: string) => {
    stopped ??= reason;
  };
  const onAbort = () => stop('interrupted');
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const progress = () =>
    options.onProgress?.({
      rows,
      accepted: { ...accepted },
      rejected: { ...rejected.count },
      failed: { ...failed.count },
      badRows,
      requests,
      retried,
      inFlight: inFlight.size,
      elapsedMs: clock.now() - started,
    });

  /** Counts every row the source yields and stops reading on a stop or at the row limit. */
  async function* sourceRows(): AsyncGenerator<RowResult> {
    for await (const row of readSource(source, { encoding: options.encoding ?? 'auto' })) {
      if (stopped || (options.limitRows !== undefined && rows >= options.limitRows)) return;
      rows += 1;
      yield row;
    }
  }

  function recordBadRow(badRow: BadRow): void {
    badRows += 1;
    if (badRowSamples.length < MAX_BAD_ROW_SAMPLES) badRowSamples.push(badRow);
  }

  function settle(result: PostResult, batch: Outgoing[]): Outgoing[] {
    requests += result.attempts;
    retried += result.attempts - 1;
    if (result.kind === 'accepted') {
      const numbers = result.reply.accepted.map((entry) => entry.invoiceNo);
      if (numbers.length !== batch.length || batch.some(({ invoice }, index) => numbers[index] !== invoice.invoiceNo)) {
        for (const { invoice } of batch) failed.add('the 202 reply does not list the invoices sent', result.status, invoice);
        return [];
      }
      for (const { invoice } of batch) {
        accepted.invoices += 1;
        accepted.lines += invoice.lines.length;
        tally.addInvoice(invoice);
      }
      return [];
    }
    if (result.kind === 'failed') {
      for (const { invoice } of batch) failed.add(result.reason, result.status, invoice);
      return [];
    }
    const { status, reply } = result;
    if (status === 401 || status === 403) stop(`the API refused the key (HTTP ${status})`);
    // A batch refused for some of its invoices: those are rejected, the others are sent again without them.
    const byIndex = new Map<number, string[]>();
    for (const problem of reply.problems ?? []) {
      const index = /^invoices\[(\d+)\]/.exec(problem.path)?.[1];
      if (index === undefined || batch.length === 1) continue;
      byIndex.set(Number(index), [...(byIndex.get(Number(index)) ?? []), `${genericPath(problem.path)}: ${problem.message}`]);
    }
    const splittable = (status === 400 || status === 413) && byIndex.size > 0 && byIndex.size < batch.length;
    if (splittable) {
      batch.forEach(({ invoice }, index) => {
        const problems = byIndex.get(index);
        if (problems) rejected.add(`HTTP ${status} ${[...new Set(problems)].slice(0, 3).join('; ')}`, status, invoice);
      });
      return batch.filter((_, index) => !byIndex.has(index));
    }
    if (status === 413 && batch.length > 1 && byIndex.size === 0) return batch; // too big as a whole: halves are resent
    const detail = reply.problems?.length ? [...new Set(reply.problems.map((problem) => `${genericPath(problem.path)}: ${problem.message}`))].slice(0, 3).join('; ') : reply.message;
    for (const { invoice } of batch) rejected.add(`HTTP ${status} ${detail}`, status, invoice);
    return [];
  }

  async function deliver(batch: Outgoing[]): Promise<void> {
    const body = options.oneByOne ? (batch[0] as Outgoing).json : `{"invoices":[${batch.map((item) => item.json).join(',')}]}`;
    await records?.take(batch.length);
    await bytes?.take(Buffer.byteLength(body));
    const result = await postInvoices(body, client);
    const again = settle(result, batch);
    progress();
    if (again.length === 0) return;
    if (again.length === batch.length) {
      // 413 for the whole batch: send it in halves.
      const half = Math.ceil(batch.length / 2);
      await deliver(batch.slice(0, half));
      await deliver(batch.slice(half));
    } else {
      await deliver(again);
    }
  }

  async function dispatch(batch: Outgoing[]): Promise<void> {
    if (batch.length === 0) return;
    for (const { invoice } of batch) {
      sent.invoices += 1;
      sent.lines += invoice.lines.length;
    }
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    const task = deliver(batch)
      .catch((error: unknown) => {
        crash ??= error;
        stop('internal error');
      })
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
  }

  // Per-store batches waiting to fill.
  const pending = new Map<string, { items: Outgoing[]; bytes: number }>();
  async function flushAll(): Promise<void> {
    for (const [store, batch] of pending) {
      pending.delete(store);
      await dispatch(batch.items);
    }
  }

  async function pace(invoiceDate: string): Promise<void> {
    if (!speed) return;
    let delay = speed.delayFor(invoiceDate);
    if (delay <= 0) return;
    await flushAll(); // nothing waits in a half-full batch while the clock runs
    while (delay > 0 && !stopped) {
      await clock.sleep(Math.min(delay, SLEEP_STEP_MS));
      delay = speed.delayFor(invoiceDate);
    }
  }

  async function enqueue(invoice: Invoice): Promise<void> {
    await pace(invoice.invoiceDate);
    const item = { invoice, json: JSON.stringify(invoice) };
    const itemBytes = Buffer.byteLength(item.json) + 1;
    const batch = pending.get(invoice.storeId) ?? { items: [], bytes: 20 };
    if (batch.items.length > 0 && batch.bytes + itemBytes > MAX_BODY_BYTES) {
      await dispatch(batch.items);
      batch.items = [];
      batch.bytes = 20;
    }
    batch.items.push(item);
    batch.bytes += itemBytes;
    pending.set(invoice.storeId, batch);
    if (batch.items.length >= batchSize) {
      pending.delete(invoice.storeId);
      await dispatch(batch.items);
    }
  }

  try {
    if (options.oneByOne) {
      const lineNos = new Map<string, number>();
      for await (const result of sourceRows()) {
        if (!result.ok) {
          recordBadRow(result.badRow);
          continue;
        }
        const { row } = result;
        const lineNo = (lineNos.get(row.invoiceNo) ?? 0) + 1;
        lineNos.set(row.invoiceNo, lineNo);
        let invoiceNo: string;
        try {
          invoiceNo = oneByOneInvoiceNo(row.invoiceNo, lineNo);
        } catch (error) {
          recordBadRow({ file: row.file, line: row.line, field: 'InvoiceNo', reason: (error as Error).message, raw: row.invoiceNo });
          continue;
        }
        await enqueue({
          invoiceNo,
          invoiceDate: row.invoiceDate,
          customerId: row.customerId,
          country: row.country,
          storeId: storeIdFor(row.invoiceNo, stores),
          lines: [{ stockCode: row.stockCode, description: row.description, quantity: row.quantity, unitPrice: row.unitPrice }],
        });
      }
    } else {
      for await (const item of groupInvoices(sourceRows(), { storeIdFor: (invoiceNo) => storeIdFor(invoiceNo, stores) })) {
        if (item.kind === 'bad-row') recordBadRow(item.badRow);
        else {
          options.onInvoice?.(item.invoice);
          await enqueue(item.invoice);
        }
      }
    }
    await flushAll();
  } finally {
    // Whatever happened while reading, every request already made is waited for and accounted.
    while (inFlight.size) await Promise.race(inFlight);
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (crash) throw crash;
  progress();

  const seconds = (clock.now() - started) / 1000;
  return {
    source,
    mode: options.oneByOne ? 'one-by-one' : 'invoices',
    stores,
    batchSize,
    concurrency,
    ...(options.speed ? { speed: options.speed } : {}),
    rows,
    badRows,
    badRowSamples,
    sent,
    accepted,
    rejected: { ...rejected.count, reasons: rejected.list() },
    failed: { ...failed.count, reasons: failed.list() },
    requests,
    retried,
    unaccounted: rows - accepted.lines - rejected.count.lines - failed.count.lines - badRows,
    ...(stopped ? { stopped } : {}),
    totals: tally.totals(),
    seconds,
  };
}

/** True when every row read is in the stream or is a reported bad row of the source. */
export function isComplete(summary: ReplaySummary): boolean {
  return summary.unaccounted === 0 && summary.rejected.invoices === 0 && summary.failed.invoices === 0 && summary.stopped === undefined;
}
