import { EXAMPLE_INVOICE } from '@invoice-pipeline/transactions/files';
import { type Bench, type Figure } from '../figure';
import { load } from '../load';

const CLIENTS = [1, 10, 50] as const;
const SECONDS = { full: 8, smoke: 2 };

/** A typical single invoice (the dataset's median invoice has a dozen lines or so; this one has three). */
const INVOICE = EXAMPLE_INVOICE;

/**
 * POST /invoices with one invoice per request at 1, 10 and 50 concurrent clients, beside the same server's health
 * endpoint (a Lambda that touches nothing) at the same concurrency: what validation and the Kinesis put cost on top
 * of serverless-offline's own per-request work. The same invoice is re-sent, which every sink absorbs (same key).
 */
export const ingestLoad: Bench = {
  id: 'ingest-load',
  needs: 'pipeline',
  async run({ smoke, log, pipeline }) {
    const seconds = smoke ? SECONDS.smoke : SECONDS.full;
    const figures: Figure[] = [];
    for (const connections of CLIENTS) {
      log(`ingest under load: ${connections} client(s), ${seconds} s each for POST /invoices and GET /health`);
      // Each side first primes one worker per client (serverless-offline starts a worker thread, a cold start, per
      // request in flight): on a busy machine 50 cold starts outlast the 2 s warm-up, and the smoke run's window then
      // measured cold starts (0 POSTs completed at 50 clients), not the endpoint.
      const health = await load({ url: `${pipeline.api.url}/health`, connections, seconds, primeWorkers: true });
      const post = await load({
        primeWorkers: true,
        url: `${pipeline.api.url}/invoices`,
        connections,
        seconds,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': pipeline.api.key },
        body: JSON.stringify(INVOICE),
      });
      figures.push({
        id: `ingest-load.c${connections}.requests-per-second`,
        label: `POST /invoices, ${connections} client${connections > 1 ? 's' : ''}`,
        value: post.requestsPerSecond,
        unit: 'req/s',
        better: 'higher',
        detail: `p50 ${post.p50Ms} ms, p99 ${post.p99Ms} ms, ${post.errors} errors of ${post.requests}`,
        ceiling: { label: 'GET /health', value: health.requestsPerSecond, detail: `p50 ${health.p50Ms} ms, p99 ${health.p99Ms} ms, ${health.errors} errors` },
        target: connections === 50 ? { text: '>= 1/2 of health, no error', met: post.requests > 0 && post.requestsPerSecond >= health.requestsPerSecond / 2 && post.errors === 0 } : undefined,
      });
    }
    return figures;
  },
};
