import { resolve } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { AcceptedReply, ErrorReply, parseInvoicesBody, type Invoice } from '@invoice-pipeline/transactions';
import type { APIGatewayProxyResult } from 'aws-lambda';
import fc from 'fast-check';
import { loadWithEnv } from '../../../test/load-with-env';
import { lambdaContext, postInvoicesEvent } from '../../../test/events';
import { FakeKinesis, throttled, type FakeKinesisBehaviour } from '../../../test/fake-kinesis';
import { sampleInvoices } from '../../../test/invoices';
import type * as HandlerModule from './handler';

/**
 * Whatever a client sends, the reply is never a 5xx, and the stream holds either every invoice of the request
 * (2xx) or none of them.
 */

const HANDLER = resolve(__dirname, 'handler.ts');
const ENV = { STREAM_NAME: 'invoice-ingest-test-invoices', AWS_REGION: 'eu-west-2' };
// Metrics are still recorded (and spied on); only their EMF output is silenced.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

let handlerModule: typeof HandlerModule;
let realInvoices: Invoice[];

beforeAll(async () => {
  handlerModule = loadWithEnv<typeof HandlerModule>(HANDLER, ENV);
  realInvoices = await sampleInvoices(40);
});

async function invoke(body: string, contentType: string | undefined, behaviour: FakeKinesisBehaviour = {}) {
  const kinesis = new FakeKinesis(behaviour);
  const handler = handlerModule.createHandler({
    kinesis,
    config: { streamName: ENV.STREAM_NAME, retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2 }, retryAfterSeconds: 1 },
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'test', serviceName: 'ingest' }),
    sleep: async () => undefined,
  });
  const headers: Record<string, string> = contentType === undefined ? {} : { 'Content-Type': contentType };
  const reply = (await handler(postInvoicesEvent(body, headers), lambdaContext())) as APIGatewayProxyResult;
  return { reply, kinesis };
}

const digits = (min: number, max: number) => fc.integer({ min, max }).map(String);
const localDateTime = fc
  .date({ min: new Date('2009-01-01T00:00:00Z'), max: new Date('2012-12-31T23:59:59Z'), noInvalidDate: true })
  .map((date) => date.toISOString().slice(0, 19));
const money = fc.bigInt({ min: -10_000_000n, max: 10_000_000n }).map((millis) => {
  const sign = millis < 0n ? '-' : '';
  const magnitude = millis < 0n ? -millis : millis;
  return `${sign}${magnitude / 1000n}.${(magnitude % 1000n).toString().padStart(3, '0')}`;
});
const text = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 });
const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);

const line = fc.record(
  {
    stockCode: text,
    description: fc.option(fc.string({ unit: 'binary', maxLength: 40 }), { nil: null }),
    quantity: fc.integer({ min: -1_000, max: 1_000 }),
    unitPrice: money,
    invoiceDate: localDateTime,
  },
  { requiredKeys: ['stockCode', 'description', 'quantity', 'unitPrice'] },
);

const generatedInvoice = fc.record({
  invoiceNo: fc.tuple(fc.constantFrom('', 'C', 'A'), digits(1, 99_999_999)).map(([prefix, number]) => prefix + number),
  invoiceDate: localDateTime,
  customerId: fc.option(id, { nil: null }),
  country: text,
  storeId: id,
  lines: fc.array(line, { minLength: 1, maxLength: 6 }),
});

const invoice = fc.oneof(generatedInvoice, fc.integer({ min: 0, max: 39 }).map((index) => realInvoices[index] as Invoice));

/** Breaks a value at a random place: a field replaced by any JSON value, or removed, or an unknown one added. */
function mutated(value: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.tuple(value, fc.nat(), fc.jsonValue(), fc.constantFrom('replace', 'delete', 'add')).map(([original, pick, replacement, how]) => {
    const copy = structuredClone(original);
    const containers: Array<Record<string, unknown> | unknown[]> = [];
    const walk = (node: unknown) => {
      if (typeof node === 'object' && node !== null) {
        containers.push(node as Record<string, unknown>);
        Object.values(node).forEach(walk);
      }
    };
    walk(copy);
    const target = containers[pick % containers.length] as Record<string, unknown>;
    const keys = Object.keys(target);
    const key = keys.length ? (keys[pick % keys.length] as string) : 'extra';
    if (how === 'delete') delete target[key];
    else if (how === 'add') target[`extra${pick}`] = replacement;
    else target[key] = replacement;
    return copy;
  });
}

const batch = fc.array(invoice, { minLength: 1, maxLength: 8 }).map((invoices) => ({ invoices }));

const body: fc.Arbitrary<string> = fc.oneof(
  invoice.map((value) => JSON.stringify(value)),
  batch.map((value) => JSON.stringify(value)),
  mutated(invoice).map((value) => JSON.stringify(value)),
  mutated(batch).map((value) => JSON.stringify(value)),
  fc.json(),
  fc.string({ unit: 'binary', maxLength: 200 }),
  batch.map((value) => JSON.stringify(value).slice(0, -3)),
);

const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'Application/JSON', 'text/plain', undefined);

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
  // Every invoice of the request, exactly as validated, exactly once.
  expect(kinesis.stored.map((record) => JSON.parse(record.data)).sort(byNumber)).toEqual([...parsed.value].sort(byNumber));
}

const byNumber = (a: Invoice, b: Invoice) => a.invoiceNo.localeCompare(b.invoiceNo);

describe('POST /invoices, any body', () => {
  it('never replies 5xx and writes all of a request or nothing', async () => {
    await fc.assert(
      fc.asyncProperty(body, contentType, async (sent, type) => {
        const { reply, kinesis } = await invoke(sent, type);
        checkReply(reply, sent, kinesis, [202, 400, 413, 415]);
        if (reply.statusCode !== 202) expect(kinesis.calls).toHaveLength(0);
      }),
      { numRuns: 400 },
    );
  });

  it('with a flaky stream: a 202 means every invoice is in; otherwise only 503 with Retry-After', async () => {
    await fc.assert(
      fc.asyncProperty(batch, fc.double({ min: 0, max: 0.9, noNaN: true }), fc.integer(), async (value, throttleRate, seed) => {
        let state = seed;
        const random = () => ((state = (state * 1_103_515_245 + 12_345) & 0x7fffffff) / 0x7fffffff);
        const sent = JSON.stringify(value);
        const { reply, kinesis } = await invoke(sent, 'application/json', { record: () => (random() < throttleRate ? throttled : 'ok') });
        checkReply(reply, sent, kinesis, [202, 400, 503]);
        if (reply.statusCode === 503) expect(reply.headers?.['Retry-After']).toBe('1');
      }),
      { numRuns: 200 },
    );
  });
});
