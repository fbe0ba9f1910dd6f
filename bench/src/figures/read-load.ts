import { postInvoices, DEFAULT_RETRY } from '@invoice-pipeline/pos-simulator';
import type { Invoice } from '@invoice-pipeline/transactions';
import { type Bench, type Figure } from '../figure';
import { load } from '../load';

const CLIENTS = 50;
const SECONDS = { full: 8, smoke: 3 };
const STORE = 'store-001';

/** An invoice of the dataset's average size (21 lines), a number the dataset does not use. */
const INVOICE: Invoice = {
  invoiceNo: '999001',
  invoiceDate: '2011-12-09T12:50:00',
  customerId: '12680',
  country: 'France',
  storeId: STORE,
  lines: Array.from({ length: 21 }, (_, i) => ({ stockCode: `2272${i}`, description: `ITEM ${i}, "£" `, quantity: i + 1, unitPrice: i % 2 ? '0.85' : '4.125' })),
};

/**
 * GET /invoices/{invoiceNo} (a 21-line invoice, with the owning store's key) at 50 concurrent clients, beside GET
 * /health at the same concurrency through the same local API URL: what the key check, the DynamoDB Query and the reply
 * cost on top of serverless-offline's own per-request work. Each is measured once 50 workers are up (primeWorkers): the
 * figure is a steady load, not 50 cold starts.
 */
export const readLoad: Bench = {
  id: 'read-load',
  needs: 'pipeline',
  async run({ smoke, log, pipeline }) {
    const seconds = smoke ? SECONDS.smoke : SECONDS.full;
    const key = pipeline.api.storeKeys[STORE];
    if (!key) throw new Error(`the local API has no key for ${STORE}`);
    const posted = await postInvoices(JSON.stringify(INVOICE), { url: pipeline.api.url, apiKey: key, retry: DEFAULT_RETRY, timeoutMs: 10_000 });
    if (posted.kind !== 'accepted') throw new Error(`POST /invoices was not accepted: ${JSON.stringify(posted)}`);
    await pipeline.eventSource.drain();
    const url = `${pipeline.api.url}/invoices/${INVOICE.invoiceNo}`;
    const check = await fetch(url, { headers: { 'x-api-key': key } });
    if (check.status !== 200) throw new Error(`GET ${url} answered ${check.status}: ${await check.text()}`);

    log(`reading back under load: ${CLIENTS} clients, ${seconds} s each for GET /invoices/${INVOICE.invoiceNo} and GET /health`);
    const health = await load({ url: `${pipeline.api.url}/health`, connections: CLIENTS, seconds, primeWorkers: true });
    const read = await load({ url, connections: CLIENTS, seconds, primeWorkers: true, headers: { 'x-api-key': key } });
    // A latency of no request is no figure: say so instead of printing 0 ms.
    const counted = (result: typeof read) => (result.requests ? `${result.requestsPerSecond} req/s, ${result.errors} errors of ${result.requests}` : `NO REQUEST COMPLETED in ${seconds} s`);
    const detail = `${counted(read)}; a ${INVOICE.lines.length}-line invoice`;
    const healthDetail = counted(health);
    return ([['p50', read.p50Ms, health.p50Ms], ['p99', read.p99Ms, health.p99Ms]] as const).map(
      ([name, value, ceiling]): Figure => ({
        id: `read-load.c${CLIENTS}.${name}-ms`,
        label: `GET /invoices/{invoiceNo}, ${CLIENTS} clients, ${name}`,
        value,
        unit: 'ms',
        better: 'lower',
        detail,
        ceiling: { label: `GET /health, ${name}`, value: ceiling, detail: healthDetail },
      }),
    );
  },
};
