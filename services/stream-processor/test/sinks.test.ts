import { normaliseInvoice, recordVersion, type Invoice } from '@invoice-pipeline/transactions';
import { BatchWriteItemCommand, type WriteRequest as WireWriteRequest } from '@aws-sdk/client-dynamodb';
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { toWarehouseRow } from '@invoice-pipeline/warehouse';
import { decodeInvoiceRecord } from '../src/invoices/decode';
import { NumberValue } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { attributeMap, invoiceItems, LINES_PER_ITEM } from '../src/invoices/dynamodb-items';
import { supersededInBatch } from '../src/invoices/newest-in-batch';
import { packWarehouseRecords, sendToWarehouse } from '../src/invoices/send-warehouse';
import { SinkRefusedError } from '../src/invoices/sink-refusal';
import { batchWriteOnce, putItems, type WriteRequest } from '../src/invoices/write-dynamodb';

const V = recordVersion('49590338271490256608559692538361571095921575989136588898');
const fast = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2 };

function invoiceOf(lineCount: number, overrides: Partial<Invoice> = {}): Invoice {
  return {
    invoiceNo: '573585',
    invoiceDate: '2011-10-31T14:41:00',
    customerId: null,
    country: 'United Kingdom',
    storeId: 'online',
    lines: Array.from({ length: lineCount }, (_, i) => ({ stockCode: `S${i}`, description: i % 7 ? `ITEM ${i} ` : null, quantity: i + 1, unitPrice: '0.835' })),
    ...overrides,
  };
}

describe('DynamoDB item layout', () => {
  it('packs the 1,114-line invoice into a header and 12 line items, each well under 400 KB', () => {
    const items = invoiceItems(normaliseInvoice(invoiceOf(1_114)), V);
    expect(items.map((i) => i.sk)).toEqual(['#HEADER', ...Array.from({ length: 12 }, (_, i) => `LINES#${String(i + 1).padStart(4, '0')}`)]);
    expect(items[0]).toMatchObject({ pk: 'INVOICE#573585', lineCount: 1_114, lineItems: 12 });
    expect(items[0]).not.toHaveProperty('customerPk');
    const lineNos = items.slice(1).flatMap((i) => (i.lines as Array<{ lineNo: number }>).map((l) => l.lineNo));
    expect(lineNos).toEqual(Array.from({ length: 1_114 }, (_, i) => i + 1));
    for (const item of items) expect(JSON.stringify(item).length).toBeLessThan(400_000 / 10);
    expect((items[1]?.lines as unknown[]).length).toBe(LINES_PER_ITEM);
  });

  it('indexes invoices with a customer under the sparse byCustomer keys, with the exact total', () => {
    const [header] = invoiceItems(normaliseInvoice(invoiceOf(3, { customerId: '17850', invoiceNo: 'C536379' })), V);
    expect(header).toMatchObject({ customerPk: 'CUSTOMER#17850', customerSk: '2011-10-31T14:41:00#C536379', invoiceType: 'cancellation' });
    expect(String(header?.total)).toBe('5.01'); // (1+2+3) x 0.835, exactly
  });

  it('is identical when built twice (idempotent puts)', () => {
    expect(JSON.stringify(invoiceItems(normaliseInvoice(invoiceOf(250)), V))).toBe(JSON.stringify(invoiceItems(normaliseInvoice(invoiceOf(250)), V)));
  });
});

describe('DynamoDB wire format of the items', () => {
  it.each([
    ['a guest sale with descriptions missing', invoiceOf(250)],
    ['a cancellation of a customer, negative totals', invoiceOf(3, { customerId: '17850', invoiceNo: 'C536379', lines: [{ stockCode: 'S', description: 'CAFÉ £', quantity: -12, unitPrice: '123456789012.125' }] })],
    ['an adjustment with a line of its own date', invoiceOf(1, { invoiceNo: 'A563185', lines: [{ stockCode: 'B', description: 'Adjust bad debt', quantity: 1, unitPrice: '-11062.06', invoiceDate: '2011-10-31T14:42:00' }] })],
  ])('is what util-dynamodb marshalls, for %s', (_what, invoice) => {
    for (const item of invoiceItems(normaliseInvoice(invoice), V)) expect(attributeMap(item)).toEqual(marshall(item, { removeUndefinedValues: true }));
  });

  it('leaves undefined members out, and refuses numbers it cannot write exactly and values it has no type for', () => {
    expect(attributeMap({ pk: 'p', sk: 's', gone: undefined, nested: { gone: undefined, n: NumberValue.from('0.1') } })).toEqual({ pk: { S: 'p' }, sk: { S: 's' }, nested: { M: { n: { N: '0.1' } } } });
    expect(() => attributeMap({ pk: 'p', sk: 's', total: 0.1 })).toThrow(/total: 0.1 is not a safe integer/);
    expect(() => attributeMap({ pk: 'p', sk: 's', lines: [{ at: new Date(0) }] })).toThrow(/lines\[0\]\.at: no DynamoDB type/);
  });
});

describe('writing to DynamoDB', () => {
  it('retries UnprocessedItems until every item is written, in batches of 25', async () => {
    const written: string[] = [];
    let calls = 0;
    const dynamodb = {
      send: async (command: BatchWriteItemCommand) => {
        calls += 1;
        const requests = command.input.RequestItems?.t ?? [];
        // Throttle: accept only the first half of each call.
        const accepted = requests.slice(0, Math.ceil(requests.length / 2));
        written.push(...accepted.map((r) => `${r.PutRequest?.Item?.sk?.S}`));
        return { UnprocessedItems: requests.length > accepted.length ? { t: requests.slice(accepted.length) } : {} };
      },
    };
    const items = invoiceItems(normaliseInvoice(invoiceOf(3_000)), V);
    await putItems(items, { dynamodb: dynamodb as never, tableName: 't', retry: { ...fast, maxAttempts: 11 } });
    expect(written.sort()).toEqual(items.map((i) => i.sk).sort());
    expect(calls).toBeGreaterThan(2);
  });

  it('gives back the very requests DynamoDB left unprocessed, and every request of the call when its reply names one not sent', async () => {
    const requests: WriteRequest[] = invoiceItems(normaliseInvoice(invoiceOf(3)), V).map((Item) => ({ PutRequest: { Item } }));
    let reply: (sent: WireWriteRequest[]) => WireWriteRequest[] = () => [];
    const dynamodb = { send: async (command: BatchWriteItemCommand) => ({ UnprocessedItems: { t: JSON.parse(JSON.stringify(reply(command.input.RequestItems?.t ?? []))) } }) };
    const target = { dynamodb: dynamodb as never, tableName: 't' };
    reply = (sent) => sent.slice(1);
    const left = await batchWriteOnce(requests, target);
    expect(left).toHaveLength(requests.length - 1);
    left.forEach((request, index) => expect(request).toBe(requests[index + 1]));
    reply = (sent) => [{ PutRequest: { Item: { ...sent[0]?.PutRequest?.Item, sk: { S: 'LINES#9999' } } } }];
    expect(await batchWriteOnce(requests, target)).toBe(requests);
  });

  it('fails loudly, naming what is left, when retries run out', async () => {
    const dynamodb = { send: async (command: BatchWriteItemCommand) => ({ UnprocessedItems: command.input.RequestItems }) };
    await expect(putItems(invoiceItems(normaliseInvoice(invoiceOf(2)), V), { dynamodb: dynamodb as never, tableName: 't', retry: fast })).rejects.toThrow(
      /2 item\(s\) still not accepted after 4 attempts/,
    );
  });
});

describe('sending lines to the warehouse stream', () => {
  it('packs lines into NDJSON records under 1,000 KiB', () => {
    const lines = normaliseInvoice(invoiceOf(5_000, { lines: invoiceOf(5_000).lines.map((l) => ({ ...l, description: 'X'.repeat(400) })) }));
    const records = packWarehouseRecords(lines, V);
    expect(records.length).toBeGreaterThan(1);
    for (const record of records) expect(record.length).toBeLessThanOrEqual(1_000 * 1024);
    const rows = records.flatMap((r) => r.toString().trim().split('\n').map((l) => JSON.parse(l)));
    expect(rows.map((r) => r.line_no)).toEqual(lines.map((l) => l.lineNo));
    expect(rows[0]).toMatchObject({ invoice_no: '573585', line_total: '0.835', unit_price: '0.835', description: 'X'.repeat(400) });
  });

  it('packs a typical invoice into one record, its rows in line order', () => {
    const lines = normaliseInvoice(invoiceOf(40));
    const records = packWarehouseRecords(lines, V);
    expect(records).toHaveLength(1);
    expect(records[0]?.toString()).toBe(lines.map((line) => `${JSON.stringify(toWarehouseRow(line, V))}\n`).join(''));
  });

  it('retries exactly the records Firehose did not accept (FailedPutCount)', async () => {
    const delivered: string[] = [];
    let failNext = true;
    const firehose = {
      send: async (command: PutRecordBatchCommand) => {
        const records = command.input.Records ?? [];
        const responses = records.map((record, index) => {
          if (failNext && index % 2 === 0) return { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'slow down' };
          delivered.push(Buffer.from(record.Data as Uint8Array).toString());
          return { RecordId: `r${index}` };
        });
        const failed = responses.filter((r) => 'ErrorCode' in r).length;
        failNext = false;
        return { FailedPutCount: failed, RequestResponses: responses };
      },
    };
    const lines = normaliseInvoice(invoiceOf(20));
    await sendToWarehouse(packWarehouseRecords(lines, V), { firehose: firehose as never, deliveryStreamName: 'w', retry: fast });
    const rows = delivered.flatMap((d) => d.trim().split('\n').map((l) => JSON.parse(l).line_no)).sort((a, b) => a - b);
    expect(rows).toEqual(lines.map((l) => l.lineNo));
  });
});

describe('refusals and versions', () => {
  it('refuses an invoice whose row the warehouse cannot store, or larger than a Firehose record, before sending anything', () => {
    const tooPrecise = normaliseInvoice(invoiceOf(2, { lines: [{ stockCode: 'S', description: null, quantity: 1, unitPrice: '1'.repeat(30) }] }));
    expect(() => packWarehouseRecords(tooPrecise, V)).toThrow(SinkRefusedError);
    expect(() => packWarehouseRecords(tooPrecise, V)).toThrow(/refused by warehouse: lines\[0\]\.unit_price/);
    const huge = normaliseInvoice(invoiceOf(1, { lines: [{ stockCode: 'S', description: 'x'.repeat(1_100_000), quantity: 1, unitPrice: '1' }] }));
    expect(() => packWarehouseRecords(huge, V)).toThrow(/refused by (Firehose|warehouse)/);
  });

  it('lands only the newest version of an invoice within a batch', () => {
    const ok = (invoiceNo: string) => ({ ok: true as const, invoice: invoiceOf(1, { invoiceNo }) });
    const superseded = supersededInBatch([
      { sequenceNumber: '100', decoded: ok('A') },
      { sequenceNumber: '99', decoded: ok('B') },
      { sequenceNumber: '1000', decoded: ok('A') },
      { sequenceNumber: '101', decoded: { ok: false, reason: 'x', problems: [] } },
    ]);
    expect([...superseded]).toEqual(['100']);
  });
});

describe('decoding stream records', () => {
  it('accepts a valid invoice and explains an invalid one', () => {
    const ok = decodeInvoiceRecord(Buffer.from(JSON.stringify(invoiceOf(1))).toString('base64'));
    expect(ok.ok).toBe(true);
    const notJson = decodeInvoiceRecord(Buffer.from('{"invoiceNo": ').toString('base64'));
    expect(notJson).toMatchObject({ ok: false, reason: 'not JSON' });
    const invalid = decodeInvoiceRecord(Buffer.from(JSON.stringify({ ...invoiceOf(1), lines: [] })).toString('base64'));
    expect(invalid).toMatchObject({ ok: false, reason: 'not a valid invoice', problems: [{ path: 'lines' }] });
  });
});
