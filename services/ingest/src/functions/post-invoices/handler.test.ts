import { resolve } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { AcceptedReply, ErrorReply, keyValueDigest, type Invoice, type KeyBindings } from '@invoice-pipeline/transactions';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { loadWithEnv } from '../../../test/load-with-env';
import { postInvoicesEvent, lambdaContext } from '../../../test/events';
import { awsError, FakeKinesis, throttled, type FakeKinesisBehaviour } from '../../../test/fake-kinesis';
import { sampleInvoices } from '../../../test/invoices';
import type * as HandlerModule from './handler';

const HANDLER = resolve(__dirname, 'handler.ts');
const KEY_BINDINGS: KeyBindings = {
  'id:test-key-id': { role: 'store', stores: ['store-001'] },
  'id:two-stores-key-id': { role: 'store', stores: ['store-001', 'store-002'] },
  'id:backoffice-key-id': { role: 'backoffice' },
  [keyValueDigest('local-store-002-key')]: { role: 'store', stores: ['store-002'] },
};
const ENV = { STREAM_NAME: 'invoice-ingest-test-invoices', AWS_REGION: 'eu-west-2', STORE_API_KEYS: JSON.stringify(KEY_BINDINGS) };
// Metrics are still recorded (and spied on); only their EMF output is silenced.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

let handlerModule: typeof HandlerModule;
let invoices: Invoice[];

beforeAll(async () => {
  handlerModule = loadWithEnv<typeof HandlerModule>(HANDLER, ENV);
  invoices = await sampleInvoices(5);
});

interface Invocation {
  reply: APIGatewayProxyResult;
  kinesis: FakeKinesis;
  metrics: Metrics;
  addMetric: jest.SpyInstance;
}

interface InvokeOptions {
  headers?: Record<string, string>;
  kinesis?: FakeKinesisBehaviour;
  apiKeyId?: string;
  remainingMs?: number;
}

async function invoke(body: string | null, options: InvokeOptions = {}): Promise<Invocation> {
  const kinesis = new FakeKinesis(options.kinesis);
  const metrics = new Metrics({ namespace: 'test', serviceName: 'ingest', singleMetric: false });
  const addMetric = jest.spyOn(metrics, 'addMetric');
  const handler = handlerModule.createHandler({
    kinesis,
    config: { streamName: ENV.STREAM_NAME, retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20 }, retryAfterSeconds: 2, keyBindings: KEY_BINDINGS },
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics,
    sleep: async () => undefined,
  });
  const event = postInvoicesEvent(body, options.headers);
  if (options.apiKeyId !== undefined) event.requestContext.identity.apiKeyId = options.apiKeyId;
  const reply = (await handler(event, lambdaContext(options.remainingMs))) as APIGatewayProxyResult;
  return { reply, kinesis, metrics, addMetric };
}

function errorReply(reply: APIGatewayProxyResult): ErrorReply {
  expect(reply.headers?.['Content-Type'] ?? reply.headers?.['content-type']).toBe('application/json');
  return ErrorReply.parse(JSON.parse(reply.body));
}

const json = (value: unknown) => JSON.stringify(value);

describe('POST /invoices handler', () => {
  it('202: one invoice becomes one record, and the reply says where it landed', async () => {
    const [invoice = invoices[0] as Invoice] = invoices;
    const { reply, kinesis, addMetric } = await invoke(json(invoice));

    expect(reply.statusCode).toBe(202);
    const accepted = AcceptedReply.parse(JSON.parse(reply.body));
    expect(kinesis.stored).toHaveLength(1);
    expect(kinesis.stored[0]?.partitionKey).toBe(invoice.invoiceNo);
    expect(JSON.parse(kinesis.stored[0]?.data ?? '')).toEqual(invoice);
    expect(accepted.accepted).toEqual([
      { invoiceNo: invoice.invoiceNo, lines: invoice.lines.length, shardId: kinesis.stored[0]?.shardId, sequenceNumber: kinesis.stored[0]?.sequenceNumber },
    ]);
    expect(addMetric).toHaveBeenCalledWith('InvoicesAccepted', 'Count', 1);
  });

  it('202: a batch, every invoice in the stream, reply in request order', async () => {
    const { reply, kinesis } = await invoke(json({ invoices }), { headers: { 'CONTENT-TYPE': 'application/json; charset=utf-8' } });
    expect(reply.statusCode).toBe(202);
    expect(AcceptedReply.parse(JSON.parse(reply.body)).accepted.map((entry) => entry.invoiceNo)).toEqual(invoices.map((invoice) => invoice.invoiceNo));
    expect(kinesis.stored.map((record) => JSON.parse(record.data))).toEqual(invoices);
  });

  it('202 after partial failures: failed records are retried until every one is in', async () => {
    const victim = invoices[1]?.invoiceNo;
    const { reply, kinesis, addMetric } = await invoke(json({ invoices }), { kinesis: { record: (key, call) => (key === victim && call === 1 ? throttled : 'ok') } });
    expect(reply.statusCode).toBe(202);
    expect(kinesis.stored).toHaveLength(invoices.length);
    expect(addMetric).toHaveBeenCalledWith('RecordsRetried', 'Count', 1);
  });

  it('400: a batch with one invalid invoice is refused whole, every problem listed, nothing written', async () => {
    const broken = invoices.map((invoice, index) =>
      index === 1 ? { ...invoice, invoiceDate: '1/12/2010 8:26', lines: [{ ...invoice.lines[0], unitPrice: 2.55 }] } : index === 3 ? { ...invoice, storeId: '' } : invoice,
    );
    const { reply, kinesis, addMetric } = await invoke(json({ invoices: broken }));

    expect(reply.statusCode).toBe(400);
    const body = errorReply(reply);
    expect([...new Set(body.problems?.map((problem) => problem.path))].sort()).toEqual(['invoices[1].invoiceDate', 'invoices[1].lines[0].unitPrice', 'invoices[3].storeId']);
    expect(body.problems?.every((problem) => problem.message.length > 0)).toBe(true);
    expect(kinesis.calls).toHaveLength(0);
    expect(addMetric).toHaveBeenCalledWith('InvoicesRejected', 'Count', invoices.length);
  });

  it('400: an invoice number twice in one batch', async () => {
    const [first = invoices[0] as Invoice] = invoices;
    const { reply, kinesis } = await invoke(json({ invoices: [first, first] }));
    expect(reply.statusCode).toBe(400);
    expect(errorReply(reply).problems).toEqual([{ path: 'invoices[1].invoiceNo', message: 'duplicates invoices[0].invoiceNo in this batch' }]);
    expect(kinesis.calls).toHaveLength(0);
  });

  it.each([
    ['an array', '[1, 2]'],
    ['a string', '"536365"'],
    ['null', 'null'],
    ['no body', null],
    ['an empty batch', '{"invoices": []}'],
    ['an unknown field', json({ invoiceNo: '1' }).replace('}', ', "extra": 1}')],
  ])('400: %s', async (_, body) => {
    const { reply, kinesis } = await invoke(body);
    expect(reply.statusCode).toBe(400);
    expect(errorReply(reply).problems?.length).toBeGreaterThan(0);
    expect(kinesis.calls).toHaveLength(0);
  });

  it('400: lists at most 1,000 problems and says how many there were', async () => {
    const [first = invoices[0] as Invoice] = invoices;
    const lines = Array.from({ length: 1_200 }, () => ({ stockCode: '', description: null, quantity: 1, unitPrice: '1' }));
    const { reply } = await invoke(json({ ...first, lines }));
    const body = errorReply(reply);
    expect(reply.statusCode).toBe(400);
    expect(body.problems).toHaveLength(1_000);
    expect(body.message).toContain('1200 problems');
  });

  it.each([
    ['text/plain', { 'Content-Type': 'text/plain' }, 'hello'],
    ['no Content-Type', {} as Record<string, string>, '{}'],
    ['form data', { 'content-type': 'application/x-www-form-urlencoded' }, 'a=1'],
    ['JSON under a form media type', { 'content-type': 'text/json' }, '{}'],
  ])('415: %s', async (_, headers, body) => {
    const { reply, kinesis } = await invoke(body, { headers });
    expect(reply.statusCode).toBe(415);
    expect(errorReply(reply).message).toMatch(/JSON/);
    expect(kinesis.calls).toHaveLength(0);
  });

  it.each([
    ['malformed JSON', '{"invoices": ['],
    ['a truncated string', '{"invoiceNo": "5363'],
    ['not JSON at all', 'hello'],
  ])('400 (not 415): %s, with the media type right', async (_, body) => {
    const { reply, kinesis } = await invoke(body, { headers: { 'content-type': 'application/json' } });
    expect(reply.statusCode).toBe(400);
    expect(errorReply(reply).problems).toEqual([{ path: '(body)', message: 'is not valid JSON' }]);
    expect(kinesis.calls).toHaveLength(0);
  });

  it('media types are case-insensitive: Application/JSON is JSON', async () => {
    const { reply } = await invoke(json(invoices[0]), { headers: { 'Content-Type': 'Application/JSON; Charset=UTF-8' } });
    expect(reply.statusCode).toBe(202);
  });

  it('400: an unknown key name is never echoed at length (a 4 MB key gives a small reply)', async () => {
    const body = json({ ...invoices[0], ['k'.repeat(4 * 1024 * 1024)]: 1 });
    const { reply } = await invoke(body);
    expect(reply.statusCode).toBe(400);
    expect(reply.body.length).toBeLessThan(1_000);
  });

  it.each([
    ['a negative price on a sale', { unitPrice: '-1' }, 'lines[0].unitPrice'],
    ['a 40-digit price', { unitPrice: '1'.repeat(40) }, 'lines[0].unitPrice'],
    ['a NUL in a description', { description: 'A\u0000' }, 'lines[0].description'],
    ['a lone surrogate', { stockCode: '\uD800' }, 'lines[0].stockCode'],
    ['a line total over the warehouse column', { quantity: 2_000_000_000, unitPrice: '100000000000' }, 'lines[0].quantity'],
  ])('400: %s (no sink could store it), at its path', async (_, change, path) => {
    const [first = invoices[0] as Invoice] = invoices;
    const { reply, kinesis } = await invoke(json({ ...first, lines: [{ ...first.lines[0], ...change }] }));
    expect(reply.statusCode).toBe(400);
    expect(errorReply(reply).problems?.map((problem) => problem.path)).toEqual([path]);
    expect(kinesis.calls).toHaveLength(0);
  });

  it('403: a key sends only its own store\'s invoices; the other store\'s paths are listed, nothing written', async () => {
    const mixed = invoices.map((invoice, index) => (index === 2 ? { ...invoice, storeId: 'store-002' } : invoice));
    const { reply, kinesis } = await invoke(json({ invoices: mixed }));
    expect(reply.statusCode).toBe(403);
    const body = errorReply(reply);
    expect(body.message).toMatch(/store\(s\) store-001 only/);
    expect(body.problems).toEqual([{ path: 'invoices[2].storeId', message: expect.any(String) }]);
    expect(kinesis.calls).toHaveLength(0);
    // A key bound to both stores sends both.
    expect((await invoke(json({ invoices: mixed }), { apiKeyId: 'two-stores-key-id' })).reply.statusCode).toBe(202);
  });

  it('403: a key bound to no store, and a back-office key, send nothing', async () => {
    for (const apiKeyId of ['unknown-key-id', 'backoffice-key-id']) {
      const { reply, kinesis } = await invoke(json(invoices[0]), { apiKeyId });
      expect(reply.statusCode).toBe(403);
      expect(kinesis.calls).toHaveLength(0);
    }
  });

  it('a local key is found by the digest of its value (serverless-offline gives every request one placeholder key id)', async () => {
    const headers = { 'content-type': 'application/json', 'X-API-Key': 'local-store-002-key' };
    const ok = await invoke(json({ ...invoices[0], storeId: 'store-002' }), { headers, apiKeyId: 'offlineContext_apiKeyId' });
    expect(ok.reply.statusCode).toBe(202);
    const refused = await invoke(json(invoices[0]), { headers, apiKeyId: 'offlineContext_apiKeyId' });
    expect(refused.reply.statusCode).toBe(403);
  });

  it('503 with Retry-After, in time, when a Kinesis call hangs past the time left (the call is aborted)', async () => {
    const started = Date.now();
    const { reply, kinesis } = await invoke(json(invoices[0]), { remainingMs: 1_800, kinesis: { delayMs: () => 60_000 } });
    expect(reply.statusCode).toBe(503);
    expect(reply.headers?.['Retry-After']).toBe('2');
    expect(kinesis.calls).toHaveLength(1);
    expect(kinesis.stored).toHaveLength(0);
    // 1.8 s left less the 1.5 s margin: answered after about 0.3 s, not after the hanging call.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('503 without calling Kinesis when no time is left', async () => {
    const { reply, kinesis } = await invoke(json(invoices[0]), { remainingMs: 1_000 });
    expect(reply.statusCode).toBe(503);
    expect(kinesis.calls).toHaveLength(0);
  });

  it('413: a body over 5 MiB, before parsing it', async () => {
    const { reply, kinesis } = await invoke(`{"pad": "${'x'.repeat(5 * 1024 * 1024)}"}`);
    expect(reply.statusCode).toBe(413);
    expect(errorReply(reply).message).toMatch(/limit is 5242880 bytes/);
    expect(kinesis.calls).toHaveLength(0);
  });

  it('413: an invoice larger than a stream record, with its path; nothing written', async () => {
    const [first = invoices[0] as Invoice] = invoices;
    const line = { stockCode: 'BIG', description: 'é'.repeat(500), quantity: 1, unitPrice: '1' };
    const huge = { ...first, invoiceNo: '999999', lines: Array.from({ length: 1_500 }, () => line) };

    const batch = await invoke(json({ invoices: [first, huge] }));
    expect(batch.reply.statusCode).toBe(413);
    expect(errorReply(batch.reply).problems?.map((problem) => problem.path)).toEqual(['invoices[1]']);
    expect(batch.kinesis.calls).toHaveLength(0);

    const single = await invoke(json(huge));
    expect(single.reply.statusCode).toBe(413);
    expect(errorReply(single.reply).problems?.map((problem) => problem.path)).toEqual(['(body)']);
  });

  it('503 with Retry-After when the stream stays throttled; the body is generic', async () => {
    const { reply, addMetric } = await invoke(json({ invoices }), { kinesis: { record: () => throttled } });
    expect(reply.statusCode).toBe(503);
    expect(reply.headers?.['Retry-After']).toBe('2');
    const body = errorReply(reply);
    expect(body.message).toMatch(/Retry-After/);
    expect(reply.body).not.toMatch(/Provisioned|shardId|Exception/);
    expect(addMetric).toHaveBeenCalledWith('StreamUnavailable', 'Count', 1);
  });

  it('500 without internals when something unexpected fails', async () => {
    const { reply } = await invoke(json({ invoices }), { kinesis: { call: () => awsError('ResourceNotFoundException') } });
    expect(reply.statusCode).toBe(500);
    expect(errorReply(reply)).toEqual({ message: expect.stringMatching(/^Internal error/) });
    expect(reply.body).not.toMatch(/ResourceNotFound|invoice-ingest|stream/i);
  });
});

describe('cold start', () => {
  it('reads STREAM_NAME once and refuses to start without it, naming it', () => {
    expect(() => loadWithEnv(HANDLER, { ...ENV, STREAM_NAME: undefined })).toThrow(/STREAM_NAME is not set/);
    expect(() => loadWithEnv(HANDLER, { ...ENV, AWS_ENDPOINT_URL_KINESIS: 'not a url' })).toThrow(/AWS_ENDPOINT_URL_KINESIS is not a URL/);
  });
});
