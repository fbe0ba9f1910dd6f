import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_CREDENTIALS, startDynamoDb, type RunningServer } from '@invoice-pipeline/local-stack';
import { CustomerInvoicesReply, ErrorReply, InvoiceReply, keyValueDigest, normaliseInvoice, recordVersion, type Invoice, type KeyBindings } from '@invoice-pipeline/transactions';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { CUSTOMER_INDEX } from '@invoice-pipeline/transactions';
import { invoiceItems } from '../src/invoices/dynamodb-items';
import { getInvoice, listCustomerInvoices, type InvoiceTable } from '../src/invoices/read-invoices';
import { putItems } from '../src/invoices/write-dynamodb';
import type * as GetInvoiceModule from '../src/functions/get-invoice/handler';
import type * as ListModule from '../src/functions/list-customer-invoices/handler';
import { expectedReply } from './expected-reply';

/**
 * The read side against dynalite: invoices written by the stream processor's own writer (its item layout), read back
 * exactly by the read functions and their handlers.
 */

const TABLE = 'read-invoices-test';
const BINDINGS: KeyBindings = {
  'id:store-1-key': { role: 'store', stores: ['store-001'] },
  'id:backoffice-key': { role: 'backoffice' },
  [keyValueDigest('local-store-2-key')]: { role: 'store', stores: ['store-002'] },
};
process.env.TABLE_NAME = TABLE;
process.env.STORE_API_KEYS = JSON.stringify(BINDINGS);
process.env.AWS_REGION = 'eu-west-2';

let dynamo: RunningServer;
let table: InvoiceTable;
let getInvoiceHandler: ReturnType<typeof GetInvoiceModule.createHandler>;
let listHandler: ReturnType<typeof ListModule.createHandler>;
const silent = { error: () => undefined, warn: () => undefined };

function invoiceOf(invoiceNo: string, lineCount: number, overrides: Partial<Invoice> = {}): Invoice {
  return {
    invoiceNo,
    invoiceDate: '2011-10-31T14:41:00',
    customerId: '17850',
    country: 'United Kingdom',
    storeId: 'store-001',
    lines: Array.from({ length: lineCount }, (_, i) => ({
      stockCode: `S${i}`,
      description: i % 7 ? `ITEM ${i} "£" ` : null,
      quantity: invoiceNo.startsWith('C') ? -(i + 1) : i + 1,
      unitPrice: i % 2 ? '0.835' : '123456789012.125',
      ...(i === 3 ? { invoiceDate: '2011-10-31T14:42:00' } : {}),
    })),
    ...overrides,
  };
}

async function write(invoice: Invoice): Promise<void> {
  await putItems(invoiceItems(normaliseInvoice(invoice), recordVersion('1')), { dynamodb: table.dynamodb as DynamoDBDocumentClient, tableName: TABLE });
}

function event(options: { path: Record<string, string>; query?: Record<string, string>; apiKeyId?: string; headers?: Record<string, string> }): APIGatewayProxyEvent {
  return {
    pathParameters: options.path,
    queryStringParameters: options.query ?? null,
    headers: options.headers ?? {},
    requestContext: { identity: { apiKeyId: options.apiKeyId ?? null } },
  } as unknown as APIGatewayProxyEvent;
}

beforeAll(async () => {
  dynamo = await startDynamoDb({ port: 0 });
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'eu-west-2', credentials: LOCAL_CREDENTIALS });
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: ['pk', 'sk', 'customerPk', 'customerSk'].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: CUSTOMER_INDEX,
          KeySchema: [{ AttributeName: 'customerPk', KeyType: 'HASH' }, { AttributeName: 'customerSk', KeyType: 'RANGE' }],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  table = { dynamodb: DynamoDBDocumentClient.from(client, { unmarshallOptions: { wrapNumbers: true }, marshallOptions: { removeUndefinedValues: true } }), tableName: TABLE };
  const config = { tableName: TABLE, keyBindings: BINDINGS };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  getInvoiceHandler = (require('../src/functions/get-invoice/handler') as typeof GetInvoiceModule).createHandler({ table, config, logger: silent });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  listHandler = (require('../src/functions/list-customer-invoices/handler') as typeof ListModule).createHandler({ table, config, logger: silent });
}, 60_000);

afterAll(async () => {
  await dynamo?.stop();
});

describe('reading invoices back', () => {
  it('the 1,114-line invoice, a cancellation and a guest sale read back exactly, lines in order, money exact', async () => {
    const big = invoiceOf('573585', 1_114);
    const cancellation = invoiceOf('C573586', 3);
    const guest = invoiceOf('573587', 2, { customerId: null });
    for (const invoice of [big, cancellation, guest]) await write(invoice);

    for (const invoice of [big, cancellation, guest]) expect(await getInvoice(table, invoice.invoiceNo)).toEqual(expectedReply(invoice));
    expect((await getInvoice(table, 'C573586'))?.invoiceType).toBe('cancellation');
    // (1 x 123456789012.125) + (2 x 0.835) + (3 x 123456789012.125), exactly.
    expect((await getInvoice(table, 'C573586'))?.total).toBe('-493827156050.17');
    expect(await getInvoice(table, '999999')).toBeUndefined();
  });

  it('an invoice re-sent with fewer lines reads back with the new lines only', async () => {
    await write(invoiceOf('573600', 250));
    await write(invoiceOf('573600', 120));
    const read = await getInvoice(table, '573600');
    expect(read?.lineCount).toBe(120);
    expect(read?.lines?.map((line) => line.lineNo)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
  });

  it('a customer\'s invoices: newest first, each exactly once across pages, within the date range; guests never listed', async () => {
    const days = Array.from({ length: 45 }, (_, i) => `2011-0${1 + (i % 9)}-${String(10 + Math.floor(i / 9)).padStart(2, '0')}T10:00:00`);
    for (const [index, day] of days.entries()) await write(invoiceOf(String(600_000 + index), 2, { customerId: '12347', invoiceDate: day }));
    await write(invoiceOf('600999', 1, { customerId: null, invoiceDate: '2011-05-10T10:00:00' }));

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listCustomerInvoices(table, { customerId: '12347', pageSize: 7, withLines: false, ...(cursor ? { cursor } : {}) });
      seen.push(...page.invoices.map((invoice) => `${invoice.invoiceDate}#${invoice.invoiceNo}`));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toHaveLength(45);
    expect(new Set(seen).size).toBe(45);
    expect(seen).toEqual([...seen].sort().reverse());

    const march = await listCustomerInvoices(table, { customerId: '12347', from: '2011-03-01T00:00:00', to: '2011-03-31T23:59:59', pageSize: 100, withLines: true });
    expect(march.invoices.map((invoice) => invoice.invoiceDate.slice(0, 7))).toEqual(Array(5).fill('2011-03'));
    expect(march.invoices.every((invoice) => invoice.lines?.length === 2)).toBe(true);
    expect(march.nextCursor).toBeNull();
  });
});

describe('the read handlers', () => {
  beforeAll(async () => {
    await write(invoiceOf('700001', 3));
    await write(invoiceOf('700002', 2, { storeId: 'store-002' }));
  });

  it('GET /invoices/{invoiceNo}: 200 with an ETag for the owning store, 304 when unchanged', async () => {
    const reply = (await getInvoiceHandler(event({ path: { invoiceNo: '700001' }, apiKeyId: 'store-1-key' }))) as APIGatewayProxyResult;
    expect(reply.statusCode).toBe(200);
    expect(InvoiceReply.parse(JSON.parse(reply.body)).lines).toHaveLength(3);
    const etag = String(reply.headers?.etag);
    expect(etag).toMatch(/^".+"$/);
    const again = await getInvoiceHandler(event({ path: { invoiceNo: '700001' }, apiKeyId: 'store-1-key', headers: { 'If-None-Match': etag } }));
    expect(again.statusCode).toBe(304);
  });

  it('GET /invoices/{invoiceNo}: another store\'s invoice is a 404, as is an unknown one; a local key is found by its value', async () => {
    expect((await getInvoiceHandler(event({ path: { invoiceNo: '700002' }, apiKeyId: 'store-1-key' }))).statusCode).toBe(404);
    expect((await getInvoiceHandler(event({ path: { invoiceNo: '799999' }, apiKeyId: 'store-1-key' }))).statusCode).toBe(404);
    const local = await getInvoiceHandler(event({ path: { invoiceNo: '700002' }, apiKeyId: 'offlineContext_apiKeyId', headers: { 'x-api-key': 'local-store-2-key' } }));
    expect(local.statusCode).toBe(200);
    expect((await getInvoiceHandler(event({ path: { invoiceNo: '700002' }, apiKeyId: 'backoffice-key' }))).statusCode).toBe(200);
  });

  it('403 without a bound key; 400 with the field path for a bad invoice number', async () => {
    expect((await getInvoiceHandler(event({ path: { invoiceNo: '700001' } }))).statusCode).toBe(403);
    const bad = await getInvoiceHandler(event({ path: { invoiceNo: 'X1' }, apiKeyId: 'store-1-key' }));
    expect(bad.statusCode).toBe(400);
    expect(ErrorReply.parse(JSON.parse(bad.body)).problems?.map((problem) => problem.path)).toEqual(['path.invoiceNo']);
  });

  it('GET /customers/{customerId}/invoices: back-office only; 400 with field paths; a page with a cursor', async () => {
    expect((await listHandler(event({ path: { customerId: '17850' }, apiKeyId: 'store-1-key' }))).statusCode).toBe(403);
    expect((await listHandler(event({ path: { customerId: '17850' } }))).statusCode).toBe(403);

    const bad = await listHandler(event({ path: { customerId: '17850' }, apiKeyId: 'backoffice-key', query: { limit: '1000', from: '2011-13', lines: 'yes', extra: 'x' } }));
    expect(bad.statusCode).toBe(400);
    expect(ErrorReply.parse(JSON.parse(bad.body)).problems?.map((problem) => problem.path).sort()).toEqual(['query', 'query.from', 'query.limit', 'query.lines']);
    const badCursor = await listHandler(event({ path: { customerId: '17850' }, apiKeyId: 'backoffice-key', query: { cursor: 'bm90IGEgY3Vyc29y' } }));
    expect(ErrorReply.parse(JSON.parse(badCursor.body)).problems).toEqual([{ path: 'query.cursor', message: expect.any(String) }]);

    const page = await listHandler(event({ path: { customerId: '12347' }, apiKeyId: 'backoffice-key', query: { limit: '10' } }));
    expect(page.statusCode).toBe(200);
    const body = CustomerInvoicesReply.parse(JSON.parse(page.body));
    expect(body.invoices).toHaveLength(10);
    expect(body.nextCursor).toEqual(expect.any(String));
    // A cursor of one customer does not page through another's invoices.
    const stolen = await listHandler(event({ path: { customerId: '17850' }, apiKeyId: 'backoffice-key', query: { cursor: body.nextCursor as string } }));
    expect(stolen.statusCode).toBe(400);
  });
});
