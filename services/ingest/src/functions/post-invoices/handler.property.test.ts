import { resolve } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { AcceptedReply, ErrorReply, normaliseInvoice, parseInvoicesBody, type Invoice, type KeyBindings } from '@invoice-pipeline/transactions';
import type { APIGatewayProxyResult } from 'aws-lambda';
import fc from 'fast-check';
import { loadWithEnv } from '../../../test/load-with-env';
import { lambdaContext, postInvoicesEvent } from '../../../test/events';
import { FakeKinesis, throttled, type FakeKinesisBehaviour } from '../../../test/fake-kinesis';
import { sampleInvoices } from '../../../test/invoices';
import { batch, body, contentType, realInvoices } from '../../../test/arbitraries';
import type * as HandlerModule from './handler';

/**
 * Whatever a client sends, the reply is never a 5xx, and the stream holds either every invoice of the request
 * (2xx) or none of them.
 */

const HANDLER = resolve(__dirname, 'handler.ts');
/** The event's key (test-key-id) sends for two of the three stores the generators use. */
const KEY_BINDINGS: KeyBindings = { 'id:test-key-id': { role: 'store', stores: ['store-001', 'store-002'] }, 'id:backoffice-key-id': { role: 'backoffice' } };
const ENV = { STREAM_NAME: 'invoice-ingest-test-invoices', AWS_REGION: 'eu-west-2', STORE_API_KEYS: JSON.stringify(KEY_BINDINGS) };
/** Cases per property; 8,700 requests here, plus the CSV readers' and the offline fuzzing. */
const RUNS = { anyBody: 5_000, anyHeaders: 2_500, flakyStream: 1_000, slowStream: 200 };
// Metrics are still recorded (and spied on); only their EMF output is silenced.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

let handlerModule: typeof HandlerModule;

beforeAll(async () => {
  handlerModule = loadWithEnv<typeof HandlerModule>(HANDLER, ENV);
  realInvoices.push(...(await sampleInvoices(40)));
});

interface Caller {
  headers?: Record<string, string>;
  apiKeyId?: string | null;
  remainingMs?: number;
}

async function invoke(body: string, contentType: string | undefined, behaviour: FakeKinesisBehaviour = {}, caller: Caller = {}) {
  const kinesis = new FakeKinesis(behaviour);
  const handler = handlerModule.createHandler({
    kinesis,
    config: { streamName: ENV.STREAM_NAME, retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2 }, retryAfterSeconds: 1, keyBindings: KEY_BINDINGS },
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'test', serviceName: 'ingest' }),
    sleep: async () => undefined,
  });
  const headers: Record<string, string> = { ...(contentType === undefined ? {} : { 'Content-Type': contentType }), ...caller.headers };
  const event = postInvoicesEvent(body, headers);
  if (caller.apiKeyId !== undefined) (event.requestContext.identity as { apiKeyId: string | null }).apiKeyId = caller.apiKeyId;
  const reply = (await handler(event, lambdaContext(caller.remainingMs))) as APIGatewayProxyResult;
  return { reply, kinesis };
}

/** Any headers a client may add (names and values of any case and content), and the key API Gateway saw. */
const caller: fc.Arbitrary<Caller> = fc.record({
  headers: fc.dictionary(
    fc.oneof(fc.constantFrom('x-api-key', 'X-API-KEY', 'content-length', 'accept', 'x-forwarded-for'), fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 30 })),
    fc.string({ unit: 'binary-ascii', maxLength: 200 }),
    { maxKeys: 6 },
  ),
  apiKeyId: fc.constantFrom('test-key-id', 'test-key-id', 'test-key-id', 'backoffice-key-id', 'unknown-key-id', null),
});

function checkReply(reply: APIGatewayProxyResult, sent: string, kinesis: FakeKinesis, allowed: number[]): void {
  expect(allowed).toContain(reply.statusCode);
  if (reply.statusCode !== 202) {
    ErrorReply.parse(JSON.parse(reply.body));
    return;
  }
  const parsed = parseInvoicesBody(JSON.parse(sent));
  if (!parsed.ok) throw new Error('a 202 for a body the schema refuses');
  const accepted = AcceptedReply.parse(JSON.parse(reply.body)).accepted;
  expect(accepted.map((entry) => entry.invoiceNo)).toEqual(parsed.value.map((entry) => entry.invoiceNo));
  // Only the key's own stores, and every accepted invoice derives its stored lines (exact totals) without a fault.
  expect(parsed.value.every((entry) => ['store-001', 'store-002'].includes(entry.storeId))).toBe(true);
  for (const entry of parsed.value) expect(normaliseInvoice(entry)).toHaveLength(entry.lines.length);
  // Every invoice of the request, exactly as validated, exactly once.
  expect(kinesis.stored.map((record) => JSON.parse(record.data)).sort(byNumber)).toEqual([...parsed.value].sort(byNumber));
}

const byNumber = (a: Invoice, b: Invoice) => a.invoiceNo.localeCompare(b.invoiceNo);

describe('POST /invoices, any body', () => {
  it('never replies 5xx and writes all of a request or nothing', async () => {
    await fc.assert(
      fc.asyncProperty(body, contentType, async (sent, type) => {
        const { reply, kinesis } = await invoke(sent, type);
        checkReply(reply, sent, kinesis, [202, 400, 403, 413, 415]);
        if (reply.statusCode !== 202) expect(kinesis.calls).toHaveLength(0);
      }),
      { numRuns: RUNS.anyBody },
    );
  }, 180_000);

  it('any headers and key: 403 for a key of no store or a back-office key, never a 5xx nor a partial write', async () => {
    await fc.assert(
      fc.asyncProperty(body, contentType, caller, async (sent, type, who) => {
        const { reply, kinesis } = await invoke(sent, type, {}, who);
        checkReply(reply, sent, kinesis, [202, 400, 403, 413, 415]);
        if (reply.statusCode !== 202) expect(kinesis.calls).toHaveLength(0);
        if (who.apiKeyId !== 'test-key-id' && reply.statusCode === 202) throw new Error('202 for a key bound to no store');
      }),
      { numRuns: RUNS.anyHeaders },
    );
  }, 120_000);

  it('with a stream slower than the time left: 503 with Retry-After in time, or a 202 with every invoice', async () => {
    await fc.assert(
      fc.asyncProperty(batch, fc.integer({ min: 0, max: 30 }), async (value, slowMs) => {
        const sent = JSON.stringify(value);
        // 1.5 s is the handler's margin: 1.52 s left gives each request 20 ms for its calls.
        const { reply, kinesis } = await invoke(sent, 'application/json', { delayMs: () => slowMs }, { remainingMs: 1_520 });
        checkReply(reply, sent, kinesis, [202, 400, 403, 503]);
        if (reply.statusCode === 503) expect(reply.headers?.['Retry-After']).toBe('1');
      }),
      { numRuns: RUNS.slowStream },
    );
  }, 120_000);

  it('with a flaky stream: a 202 means every invoice is in; otherwise only 503 with Retry-After', async () => {
    await fc.assert(
      fc.asyncProperty(batch, fc.double({ min: 0, max: 0.9, noNaN: true }), fc.integer(), async (value, throttleRate, seed) => {
        let state = seed;
        const random = () => ((state = (state * 1_103_515_245 + 12_345) & 0x7fffffff) / 0x7fffffff);
        const sent = JSON.stringify(value);
        const { reply, kinesis } = await invoke(sent, 'application/json', { record: () => (random() < throttleRate ? throttled : 'ok') });
        checkReply(reply, sent, kinesis, [202, 400, 403, 503]);
        if (reply.statusCode === 503) expect(reply.headers?.['Retry-After']).toBe('1');
      }),
      { numRuns: RUNS.flakyStream },
    );
  }, 120_000);
});
