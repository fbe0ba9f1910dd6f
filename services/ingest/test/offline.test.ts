import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalApiKey, LOCAL_CREDENTIALS, startOffline, type RunningOffline } from '@invoice-pipeline/local-stack';
import { startTestKinesis, type TestKinesis } from '@invoice-pipeline/local-stack/testing';
import { AcceptedReply, ErrorReply, parseInvoicesBody, type Invoice } from '@invoice-pipeline/transactions';
import fc from 'fast-check';
import { body as anyBody, contentType as anyContentType, realInvoices } from './arbitraries';
import { sampleInvoices } from './invoices';

/**
 * The service as it runs locally: serverless-offline (API key enforced, handler bundled by serverless-esbuild)
 * against kinesalite, reached only through the SDK's AWS_ENDPOINT_URL_KINESIS.
 */

// The name serverless.yml gives the stream on stage `local` (custom.names.stream).
const STREAM = 'invoice-ingest-local-invoices';
const apiKey = createLocalApiKey();
/** A key of store-002 only, and a back-office key (reads only). */
const store2Key = createLocalApiKey();
const backofficeKey = createLocalApiKey();
/** Bodies fuzzed through the real HTTP stack (the bulk runs in-process: handler.property.test.ts). */
const OFFLINE_FUZZ_RUNS = 150;
/** The stores of serverless.yml's local stage, which the test's key is bound to. */
const LOCAL_STORES = Array.from({ length: 10 }, (_, n) => `store-${String(n + 1).padStart(3, '0')}`);

let kinesis: TestKinesis;
let offline: RunningOffline | undefined;
let invoices: Invoice[];

beforeAll(async () => {
  invoices = await sampleInvoices(40);
  realInvoices.push(...invoices);
  kinesis = await startTestKinesis();
  await kinesis.createStream(STREAM, 2);
  offline = await startOffline({
    service: 'ingest',
    stage: 'local',
    env: kinesis.environment,
    params: { localApiKey: apiKey, localStoreKeys: `store-002=${store2Key}`, localBackofficeKey: backofficeKey },
  });
}, 120_000);

afterAll(async () => {
  await offline?.stop();
  await kinesis?.stop();
});

function post(body: string, headers: Record<string, string> = { 'content-type': 'application/json', 'x-api-key': apiKey }) {
  return fetch(`${offline?.url}/invoices`, { method: 'POST', headers, body });
}

/** Runs `act` and returns what it added to the stream. */
async function streamDelta(act: () => Promise<void>) {
  const before = new Set((await kinesis.readAll(STREAM)).map((record) => record.sequenceNumber));
  await act();
  return (await kinesis.readAll(STREAM)).filter((record) => !before.has(record.sequenceNumber));
}

describe('ingest under serverless-offline', () => {
  it('202: a real invoice lands in the stream exactly as sent, keyed by its number', async () => {
    const invoice = invoices[0] as Invoice;
    let reply: AcceptedReply | undefined;
    const added = await streamDelta(async () => {
      const response = await post(JSON.stringify(invoice));
      expect(response.status).toBe(202);
      reply = AcceptedReply.parse(await response.json());
    });

    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ partitionKey: invoice.invoiceNo, sequenceNumber: reply?.accepted[0]?.sequenceNumber, shardId: reply?.accepted[0]?.shardId });
    expect(JSON.parse(added[0]?.data ?? '')).toEqual(invoice);
  });

  it('202: a batch, one record per invoice, each where the reply says', async () => {
    const batch = invoices.slice(1);
    let reply: AcceptedReply | undefined;
    const added = await streamDelta(async () => {
      const response = await post(JSON.stringify({ invoices: batch }), { 'content-type': 'application/json', 'x-api-key': apiKey, 'accept-encoding': 'gzip, deflate' });
      expect(response.status).toBe(202);
      // As API Gateway answers with no minimumCompressionSize set: uncompressed, whatever the client accepts.
      expect(response.headers.get('content-encoding')).toBeNull();
      reply = AcceptedReply.parse(await response.json());
    });

    expect(reply?.accepted.map((entry) => [entry.invoiceNo, entry.lines])).toEqual(batch.map((invoice) => [invoice.invoiceNo, invoice.lines.length]));
    expect(added).toHaveLength(batch.length);
    const bySequence = new Map(added.map((record) => [record.sequenceNumber, record]));
    batch.forEach((invoice, index) => {
      const entry = reply?.accepted[index];
      const record = bySequence.get(entry?.sequenceNumber ?? '');
      expect(record).toMatchObject({ partitionKey: invoice.invoiceNo, shardId: entry?.shardId });
      expect(JSON.parse(record?.data ?? '')).toEqual(invoice);
    });
    // Two shards, partition key = invoice number: the batch spreads over both.
    expect(new Set(added.map((record) => record.shardId)).size).toBe(2);
  });

  it('403 without an API key or with a wrong one; nothing written', async () => {
    const body = JSON.stringify(invoices[0]);
    const added = await streamDelta(async () => {
      const attempts: Array<Record<string, string>> = [{ 'content-type': 'application/json' }, { 'content-type': 'application/json', 'x-api-key': `${apiKey}x` }];
      for (const headers of attempts) {
        const response = await post(body, headers);
        expect(response.status).toBe(403);
        expect(await response.json()).toEqual({ message: 'Forbidden' });
      }
    });
    expect(added).toHaveLength(0);
  });

  it('400: one invalid invoice refuses the whole batch, every problem listed; nothing written', async () => {
    const batch = invoices.slice(0, 5).map((invoice, index) => (index === 2 ? { ...invoice, customerId: 17850 } : index === 4 ? { ...invoice, lines: [] } : invoice));
    const added = await streamDelta(async () => {
      const response = await post(JSON.stringify({ invoices: batch }));
      expect(response.status).toBe(400);
      const reply = ErrorReply.parse(await response.json());
      expect(reply.problems?.map((problem) => problem.path)).toEqual(['invoices[2].customerId', 'invoices[4].lines']);
    });
    expect(added).toHaveLength(0);
  });

  it('403: a store key sends only its own store\'s invoices, a back-office key sends none; nothing written', async () => {
    const ofStore1 = invoices[0] as Invoice;
    const added = await streamDelta(async () => {
      for (const [key, sent] of [[store2Key, ofStore1], [backofficeKey, ofStore1]] as const) {
        const response = await post(JSON.stringify(sent), { 'content-type': 'application/json', 'x-api-key': key });
        expect(response.status).toBe(403);
        expect(ErrorReply.parse(await response.json()).message).toMatch(/store|sends no invoices/);
      }
    });
    expect(added).toHaveLength(0);
    const own = { ...ofStore1, invoiceNo: '900001', storeId: 'store-002' };
    const response = await post(JSON.stringify(own), { 'content-type': 'application/json', 'x-api-key': store2Key });
    expect(response.status).toBe(202);
  });

  it('400 (not 415) for broken JSON sent as JSON', async () => {
    const response = await post('{"invoices": [');
    expect(response.status).toBe(400);
    expect(ErrorReply.parse(await response.json()).problems).toEqual([{ path: '(body)', message: 'is not valid JSON' }]);
  });

  it(`fuzzed bodies and media types (${OFFLINE_FUZZ_RUNS}): never a 5xx; every accepted invoice is in the stream exactly once, as sent`, async () => {
    const accepted = new Map<string, Invoice>();
    const before = new Set((await kinesis.readAll(STREAM)).map((record) => record.sequenceNumber));
    await fc.assert(
      // fetch refuses header values HTTP forbids (control characters, edge spaces); the server never sees them.
      fc.asyncProperty(anyBody, anyContentType.filter((type) => type === undefined || /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(type)), async (sent, type) => {
        const headers: Record<string, string> = { 'x-api-key': apiKey, ...(type === undefined ? {} : { 'content-type': type }) };
        const response = await fetch(`${offline?.url}/invoices`, { method: 'POST', headers, body: sent });
        expect([202, 400, 403, 413, 415]).toContain(response.status);
        const reply = await response.json();
        if (response.status === 403) {
          // The key is bound to the local stores only: a 403 is right only for a valid body naming another store.
          const parsed = parseInvoicesBody(JSON.parse(sent));
          expect(parsed.ok && parsed.value.some((invoice) => !LOCAL_STORES.includes(invoice.storeId))).toBe(true);
        }
        if (response.status !== 202) return void ErrorReply.parse(reply);
        const parsed = parseInvoicesBody(JSON.parse(sent));
        if (!parsed.ok) throw new Error('202 for a body the schema refuses');
        AcceptedReply.parse(reply).accepted.forEach((entry, index) => accepted.set(entry.sequenceNumber, parsed.value[index] as Invoice));
      }),
      { numRuns: OFFLINE_FUZZ_RUNS },
    );
    const added = (await kinesis.readAll(STREAM)).filter((record) => !before.has(record.sequenceNumber));
    expect(added).toHaveLength(accepted.size);
    for (const record of added) expect(JSON.parse(record.data)).toEqual(accepted.get(record.sequenceNumber));
  }, 120_000);

  it('415: a body that is not JSON', async () => {
    const response = await post('InvoiceNo,StockCode\n536365,85123A', { 'content-type': 'text/csv', 'x-api-key': apiKey });
    expect(response.status).toBe(415);
    expect(ErrorReply.parse(await response.json()).message).toMatch(/application\/json/);
  });

  it('413: a body over 5 MiB; nothing written', async () => {
    const line = { stockCode: '85123A', description: 'x'.repeat(400), quantity: 1, unitPrice: '1' };
    const big = { ...invoices[0], lines: Array.from({ length: 4_000 }, () => line) };
    const added = await streamDelta(async () => {
      const response = await post(JSON.stringify({ invoices: [big, { ...big, invoiceNo: '999999' }, { ...big, invoiceNo: '999998' }, { ...big, invoiceNo: '999997' }] }));
      expect(response.status).toBe(413);
      ErrorReply.parse(await response.json());
    });
    expect(added).toHaveLength(0);
  });

  it('GET /health needs no key', async () => {
    const response = await fetch(`${offline?.url}/health`);
    expect(response.status).toBe(200);
  });
});

describe('ingest under serverless-offline, stream throttled', () => {
  let throttling: Server;
  let throttledOffline: RunningOffline | undefined;
  let putAttempts = 0;
  /** throttle: every call answered as a stream over its write capacity; hang: never answered. */
  let mode: 'throttle' | 'hang' = 'throttle';

  beforeAll(async () => {
    throttling = createServer((request, response) => {
      putAttempts += 1;
      request.resume().on('end', () => {
        if (mode === 'hang') return;
        response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify({ __type: 'ProvisionedThroughputExceededException', message: 'Rate exceeded for shard shardId-000000000000' }));
      });
    });
    await new Promise<void>((resolve) => throttling.listen(0, '127.0.0.1', resolve));
    throttledOffline = await startOffline({
      service: 'ingest',
      env: {
        AWS_ENDPOINT_URL_KINESIS: `http://127.0.0.1:${(throttling.address() as AddressInfo).port}`,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      },
      // The deployed timeout (10 s), not the local stage's allowance for cold starts: the deadline follows it.
      params: { localApiKey: apiKey, functionTimeoutSeconds: '10' },
    });
  }, 120_000);

  afterAll(async () => {
    await throttledOffline?.stop();
    await new Promise((resolve) => throttling?.close(resolve));
  });

  it('503 with Retry-After once the retries run out, and a generic body', async () => {
    const response = await fetch(`${throttledOffline?.url}/invoices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify({ invoices: invoices.slice(0, 3) }),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('2');
    const text = await response.text();
    expect(ErrorReply.parse(JSON.parse(text)).message).toMatch(/Retry-After/);
    expect(text).not.toMatch(/Provisioned|shardId|Exception/);
    expect(putAttempts).toBeGreaterThan(1);
  }, 30_000);

  it('503 with Retry-After before the function times out when Kinesis never answers', async () => {
    mode = 'hang';
    const started = Date.now();
    const response = await fetch(`${throttledOffline?.url}/invoices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify(invoices[0]),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('2');
    // The function's timeout is 10 s: the reply came from the handler, not from a timeout.
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 30_000);
});
