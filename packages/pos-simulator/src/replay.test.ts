import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLED_SAMPLES, summariseSource, type SourceSummary } from '@invoice-pipeline/transactions/files';
import { FakeApi, fakeClock, type ReceivedRequest } from '../test/fake-api';
import { parseOneByOneInvoiceNo } from './one-by-one';
import { isComplete, replay, type ReplayOptions } from './replay';

const SAMPLE = BUNDLED_SAMPLES.kaggleHead;
const RETRY = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1_000 };

let reference: SourceSummary;
beforeAll(async () => {
  reference = await summariseSource(SAMPLE);
});

function run(api: FakeApi, options: Partial<ReplayOptions> = {}) {
  const clock = fakeClock();
  const summary = replay({ url: 'http://api.test', apiKey: 'key', source: SAMPLE, fetch: api.fetch, clock, random: () => 1, retry: RETRY, ...options });
  return { summary, clock };
}

const throttle = (status: number, retryAfter?: string) => ({
  status,
  body: { message: 'slow down' },
  ...(retryAfter ? { headers: { 'retry-after': retryAfter } } : {}),
});

describe('replay', () => {
  it('sends every invoice of the source once, per store, in batches, and reconciles with the source', async () => {
    const api = new FakeApi({ apiKey: 'key' });
    const summary = await run(api, { stores: 3, batchSize: 10 }).summary;

    expect(summary).toMatchObject({ rows: 1_071, badRows: 0, unaccounted: 0, requests: api.requests.length, retried: 0 });
    expect(summary.accepted).toEqual({ invoices: reference.totals.invoices, lines: reference.totals.lines });
    expect(summary.totals).toEqual(reference.totals);
    expect(isComplete(summary)).toBe(true);
    // Each invoice once, all of a request's invoices from one store, never more than a batch.
    expect(new Set(api.accepted.map((invoice) => invoice.invoiceNo)).size).toBe(api.accepted.length);
    for (const request of api.requests) {
      expect(request.invoices.length).toBeLessThanOrEqual(10);
      expect(new Set(request.invoices.map((invoice) => invoice.storeId)).size).toBe(1);
    }
    expect(new Set(api.accepted.map((invoice) => invoice.storeId))).toEqual(new Set(['store-001', 'store-002', 'store-003']));
  });

  it('tells each invoice it reads to onInvoice, once, as it is sent', async () => {
    const api = new FakeApi({ apiKey: 'key' });
    const seen: string[] = [];
    await run(api, { stores: 3, batchSize: 10, onInvoice: (invoice) => seen.push(`${invoice.invoiceNo}/${invoice.lines.length}`) }).summary;
    expect(seen).toHaveLength(reference.totals.invoices);
    expect([...seen].sort()).toEqual(api.accepted.map((invoice) => `${invoice.invoiceNo}/${invoice.lines.length}`).sort());
  });

  it('retries 429 and 503 with backoff, never sooner than Retry-After, and network errors', async () => {
    const api = new FakeApi({
      intercept: (_, number) =>
        number === 1 ? throttle(503, '3') : number === 2 ? throttle(429) : number === 3 ? Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } }) : undefined,
    });
    const { summary, clock } = run(api, { batchSize: 500, stores: 1 });
    const result = await summary;

    expect(result.accepted.invoices).toBe(68);
    expect(result.retried).toBe(3);
    expect(result.requests).toBe(4);
    expect(clock.sleeps).toEqual([3_000, 200, 400]);
    expect(isComplete(result)).toBe(true);
  });

  it('reports invoices it gave up on as failed, with the reason, still reconciled', async () => {
    const api = new FakeApi({ intercept: (request) => (request.invoices.some((invoice) => invoice.invoiceNo === '536365') ? throttle(503) : undefined) });
    const result = await run(api, { batchSize: 5, stores: 1 }).summary;

    expect(result.failed.invoices).toBe(5);
    expect(result.failed.reasons[0]).toMatchObject({ status: 503, invoices: 5, examples: expect.arrayContaining(['536365']) });
    expect(result.failed.reasons[0]?.reason).toMatch(/HTTP 503: slow down \(gave up after 4 attempts\)/);
    expect(result.accepted.invoices).toBe(63);
    expect(result.unaccounted).toBe(0);
    expect(isComplete(result)).toBe(false);
  });

  it('on a 400 for some invoices of a batch, rejects those with their reasons and resends the others', async () => {
    // The server refuses invoice 536367 (its problems point at its index); everything else is fine.
    const api = new FakeApi({
      intercept: (request) => {
        const index = request.invoices.findIndex((invoice) => invoice.invoiceNo === '536367');
        if (index === -1) return undefined;
        return { status: 400, body: { message: 'invalid', problems: [{ path: `invoices[${index}].lines[3].unitPrice`, message: 'too cheap' }] } };
      },
    });
    const result = await run(api, { batchSize: 20, stores: 1 }).summary;

    expect(result.rejected).toMatchObject({ invoices: 1, reasons: [{ reason: 'HTTP 400 lines[].unitPrice: too cheap', status: 400, invoices: 1, examples: ['536367'] }] });
    expect(result.accepted.invoices).toBe(67);
    expect(api.accepted.map((invoice) => invoice.invoiceNo)).not.toContain('536367');
    expect(result.unaccounted).toBe(0);
  });

  it('on a 413 for a whole batch, sends it in halves', async () => {
    const api = new FakeApi({ intercept: (request) => (request.invoices.length > 4 ? { status: 413, body: { message: 'too large' } } : undefined) });
    const result = await run(api, { batchSize: 16, stores: 1 }).summary;
    expect(result.accepted.invoices).toBe(68);
    expect(Math.max(...api.requests.filter((request) => request.invoices.length <= 4).map((request) => request.invoices.length))).toBe(4);
    expect(isComplete(result)).toBe(true);
  });

  it('stops reading when the API refuses the key, and accounts for everything read', async () => {
    const api = new FakeApi({ apiKey: 'the-right-key' });
    const result = await run(api, { batchSize: 5, stores: 1, concurrency: 1 }).summary;

    expect(result.stopped).toBe('the API refused the key (HTTP 403)');
    expect(result.rows).toBeLessThan(1_071);
    expect(result.rejected.reasons.map((reason) => reason.reason)).toEqual(['HTTP 403 Forbidden']);
    expect(result.accepted.invoices).toBe(0);
    expect(result.unaccounted).toBe(0);
  });

  it('one-by-one: one request per row, a one-line invoice with a distinct number each', async () => {
    const api = new FakeApi();
    const result = await run(api, { oneByOne: true, limitRows: 40 }).summary;

    expect(result.mode).toBe('one-by-one');
    expect(api.requests).toHaveLength(40);
    expect(api.requests.every((request: ReceivedRequest) => request.single && request.invoices.length === 1 && request.invoices[0]?.lines.length === 1)).toBe(true);
    const numbers = api.accepted.map((invoice) => invoice.invoiceNo);
    expect(new Set(numbers).size).toBe(40);
    expect(numbers.slice(0, 8)).toEqual(['5363650001', '5363650002', '5363650003', '5363650004', '5363650005', '5363650006', '5363650007', '5363660001']);
    expect(parseOneByOneInvoiceNo(numbers[2] as string)).toEqual({ invoiceNo: '536365', lineNo: 3 });
    expect(result).toMatchObject({ rows: 40, accepted: { invoices: 40, lines: 40 }, unaccounted: 0 });
  });

  it('reads only --limit rows, and still reconciles (the last invoice may be partial)', async () => {
    const api = new FakeApi();
    const result = await run(api, { limitRows: 100 }).summary;
    expect(result).toMatchObject({ rows: 100, accepted: { lines: 100 }, unaccounted: 0 });
  });

  it('counts bad source rows, never sends them, and reconciles with them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'replay-'));
    try {
      const file = join(dir, 'bad.csv');
      await writeFile(
        file,
        [
          'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country',
          '536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom',
          '536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.3999,17850.0,United Kingdom',
          '536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,17850.0,United Kingdom',
        ].join('\n'),
      );
      const api = new FakeApi();
      const result = await run(api, { source: file }).summary;
      expect(result).toMatchObject({ rows: 3, badRows: 1, accepted: { invoices: 2, lines: 2 }, unaccounted: 0 });
      expect(result.badRowSamples[0]).toMatchObject({ line: 3, field: 'UnitPrice' });
      expect(isComplete(result)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('paces by the invoices’ own times at --speed', async () => {
    const api = new FakeApi();
    const { summary, clock } = run(api, { speed: 60, batchSize: 500, stores: 1 });
    await summary;
    // The sample spans 2010-12-01 08:26 to 12:49 (263 minutes of trading): 263 s at 60x.
    expect(clock.time()).toBeGreaterThanOrEqual(262_000);
    expect(clock.time()).toBeLessThanOrEqual(264_000);
    // Waiting flushes half-full batches: far more requests than one 500-invoice batch.
    expect(api.requests.length).toBeGreaterThan(10);
  });

  it('keeps to a records-per-second limit', async () => {
    const api = new FakeApi();
    const { summary, clock } = run(api, { maxRecordsPerSecond: 10, batchSize: 10, stores: 1 });
    await summary;
    // 68 invoices at 10/s with a 10-record burst: at least 5.8 s.
    expect(clock.time()).toBeGreaterThanOrEqual(5_800);
  });

  it('stops reading when aborted; what was read is sent and accounted for', async () => {
    const controller = new AbortController();
    const api = new FakeApi({
      intercept: (_, number) => {
        if (number === 2) controller.abort();
        return undefined;
      },
    });
    const result = await run(api, { batchSize: 2, stores: 1, concurrency: 1, signal: controller.signal }).summary;
    expect(result.stopped).toBe('interrupted');
    expect(result.rows).toBeLessThan(1_071);
    expect(result.accepted.lines + result.badRows).toBe(result.rows);
    expect(isComplete(result)).toBe(false);
  });
});
