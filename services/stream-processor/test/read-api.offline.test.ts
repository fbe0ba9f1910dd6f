import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { lambdaRunner, type LocalPipeline } from '@invoice-pipeline/local-stack';
import { startTestPipeline } from '@invoice-pipeline/local-stack/testing';
import { CustomerInvoicesReply, ErrorReply, InvoiceReply, type Invoice } from '@invoice-pipeline/transactions';
import { BUNDLED_DATASET, groupInvoices, readSource } from '@invoice-pipeline/transactions/files';
import { expectedReply } from './expected-reply';

/**
 * The read API end to end, as a client sees it: real invoices of the bundled dataset POSTed to the local pipeline's one
 * API URL (ingest under serverless-offline → Kinesis → processInvoices → DynamoDB), then read back over HTTP through
 * the same URL and keys (getInvoice and listCustomerInvoices under serverless-offline).
 */

/** The largest invoice of the dataset (1,114 lines), a guest sale (no customer). */
const BIG_GUEST_SALE = '573585';
/** A customer with 52 invoices (7 of them cancellations) over the year: pagination over many invoices. */
const CUSTOMER = '17949';

/**
 * The dataset's rows of those invoices, in source order, through the project's own reader: a raw line filter first (the
 * invoice number is the first field, the customer id the second to last; neither is ever quoted), so the test reads
 * about 1,200 rows instead of 541,909.
 */
async function datasetInvoices(dir: string): Promise<Invoice[]> {
  const rows: string[] = [];
  for await (const line of createInterface({ input: createReadStream(BUNDLED_DATASET).pipe(createGunzip()), crlfDelay: Infinity })) {
    const fields = line.split(',');
    if (rows.length === 0 || fields[0] === BIG_GUEST_SALE || fields.at(-2) === `${CUSTOMER}.0`) rows.push(line);
  }
  const file = join(dir, 'read-api-slice.csv');
  await writeFile(file, `${rows.join('\n')}\n`);
  const invoices: Invoice[] = [];
  for await (const item of groupInvoices(readSource(file))) if (item.kind === 'invoice') invoices.push(item.invoice);
  return invoices;
}

// Functional checks, not speed (that is `pnpm bench`): on a loaded machine one GET through serverless-offline can take
// seconds, and the paging test makes eight.
jest.setTimeout(60_000);

describe('the read API on the local pipeline, through the one API URL', () => {
  let pipeline: LocalPipeline & { dir: string };
  let big: Invoice;
  let customerInvoices: Invoice[];

  const call = async (path: string, key: string | undefined, init: RequestInit = {}) => {
    const reply = await fetch(`${pipeline.api.url}${path}`, { ...init, headers: { ...(key ? { 'x-api-key': key } : {}), 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
    const text = await reply.text();
    return { status: reply.status, etag: reply.headers.get('etag'), body: text ? (JSON.parse(text) as unknown) : undefined };
  };
  const post = async (invoices: Invoice[], key: string) => {
    const reply = await call('/invoices', key, { method: 'POST', body: JSON.stringify({ invoices }) });
    expect(reply.status).toBe(202);
  };
  const storeKey = (store: string) => pipeline.api.storeKeys[store] as string;

  beforeAll(async () => {
    pipeline = await startTestPipeline();
    const invoices = await datasetInvoices(pipeline.dir);
    big = { ...(invoices.find((invoice) => invoice.invoiceNo === BIG_GUEST_SALE) as Invoice), storeId: 'store-001' };
    customerInvoices = invoices.filter((invoice) => invoice.customerId === CUSTOMER).map((invoice) => ({ ...invoice, storeId: 'store-002' }));
    // What the test stands on: the dataset's facts, so a changed reader cannot make it pass with less.
    expect(big.lines).toHaveLength(1_114);
    expect(big.customerId).toBeNull();
    expect(customerInvoices).toHaveLength(52);
    expect(customerInvoices.filter((invoice) => invoice.invoiceNo.startsWith('C'))).toHaveLength(7);

    // Each store posts with its own key; then wait until the stream processor has landed every record.
    await post([big], storeKey('store-001'));
    await post(customerInvoices, storeKey('store-002'));
    await pipeline.eventSource.drain(120_000);
  }, 420_000); // the pipeline bundles two services and compiles PGlite: slow on a loaded machine

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('runs both services\' handlers as asked (in-process by default: no two functions of a service set a variable to different values)', () => {
    expect([pipeline.ingest.runner, pipeline.streamProcessor.runner]).toEqual(Array(2).fill(lambdaRunner(undefined)));
  });

  it('GET /invoices/{invoiceNo}: the 1,114-line guest sale and a cancellation read back exactly (lines in order, exact money, totals)', async () => {
    const read = await call(`/invoices/${BIG_GUEST_SALE}`, storeKey('store-001'));
    expect(read.status).toBe(200);
    expect(InvoiceReply.parse(read.body)).toEqual(expectedReply(big));
    expect(read.body).toEqual(expectedReply(big));
    expect(read.etag).toMatch(/^".+"$/);

    const cancellation = customerInvoices.find((invoice) => invoice.invoiceNo.startsWith('C')) as Invoice;
    const readCancellation = await call(`/invoices/${cancellation.invoiceNo}`, storeKey('store-002'));
    expect(readCancellation).toMatchObject({ status: 200, body: expectedReply(cancellation) });
    expect((readCancellation.body as InvoiceReply).invoiceType).toBe('cancellation');
    expect((readCancellation.body as InvoiceReply).total).toMatch(/^-/);
  });

  it('ETag: If-None-Match gives a 304 while unchanged; re-sent with fewer lines, the invoice reads back with only the new lines and a new ETag', async () => {
    const before = await call(`/invoices/${BIG_GUEST_SALE}`, storeKey('store-001'));
    expect((await call(`/invoices/${BIG_GUEST_SALE}`, storeKey('store-001'), { headers: { 'if-none-match': before.etag as string } })).status).toBe(304);

    const shorter: Invoice = { ...big, lines: big.lines.slice(0, 3) };
    await post([shorter], storeKey('store-001'));
    await pipeline.eventSource.drain(60_000);
    const after = await call(`/invoices/${BIG_GUEST_SALE}`, storeKey('store-001'), { headers: { 'if-none-match': before.etag as string } });
    expect(after.status).toBe(200);
    expect(after.body).toEqual(expectedReply(shorter));
    expect(after.etag).not.toBe(before.etag);
  });

  it('GET /customers/{customerId}/invoices: 52 invoices paged 7 at a time, each exactly once, newest first, as sent', async () => {
    const seen: InvoiceReply[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await call(`/customers/${CUSTOMER}/invoices?limit=7&lines=true${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, pipeline.api.backofficeKey);
      expect(page.status).toBe(200);
      const body = CustomerInvoicesReply.parse(page.body);
      expect(body.invoices.length).toBeLessThanOrEqual(7);
      seen.push(...body.invoices);
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor && pages < 20);
    expect(pages).toBe(8);
    expect(seen.map((invoice) => invoice.invoiceNo).sort()).toEqual(customerInvoices.map((invoice) => invoice.invoiceNo).sort());
    const dates = seen.map((invoice) => invoice.invoiceDate);
    expect(dates).toEqual([...dates].sort().reverse());
    const sent = new Map(customerInvoices.map((invoice) => [invoice.invoiceNo, expectedReply(invoice)]));
    for (const invoice of seen) expect(invoice).toEqual(sent.get(invoice.invoiceNo));
  });

  it('who reads what: no key 403; a store key reads only its store\'s invoices (404 otherwise) and no customer history; 400 with field paths', async () => {
    expect((await call(`/invoices/${BIG_GUEST_SALE}`, undefined)).status).toBe(403);
    expect((await call(`/invoices/${BIG_GUEST_SALE}`, 'not-a-key-of-this-run')).status).toBe(403);
    expect((await call(`/customers/${CUSTOMER}/invoices`, undefined)).status).toBe(403);

    expect((await call(`/invoices/${BIG_GUEST_SALE}`, storeKey('store-002'))).status).toBe(404);
    expect((await call(`/invoices/${customerInvoices[0]?.invoiceNo}`, storeKey('store-001'))).status).toBe(404);
    expect((await call(`/invoices/${BIG_GUEST_SALE}`, pipeline.api.backofficeKey)).status).toBe(200);
    expect((await call(`/invoices/${BIG_GUEST_SALE}`, pipeline.api.key)).status).toBe(200);

    expect((await call(`/customers/${CUSTOMER}/invoices`, storeKey('store-002'))).status).toBe(403);
    expect((await call(`/customers/${CUSTOMER}/invoices`, pipeline.api.key)).status).toBe(403);

    const bad = await call(`/customers/${CUSTOMER}/invoices?limit=1000`, pipeline.api.backofficeKey);
    expect(bad.status).toBe(400);
    expect(ErrorReply.parse(bad.body).problems?.map((problem) => problem.path)).toEqual(['query.limit']);
    // The back-office key reads but never sends.
    expect((await call('/invoices', pipeline.api.backofficeKey, { method: 'POST', body: JSON.stringify({ invoices: [big] }) })).status).toBe(403);
  });
});
