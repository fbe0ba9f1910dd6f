import { CreateTableCommand, DynamoDBClient, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { marshall } from '@aws-sdk/util-dynamodb';
import { gzipSync } from 'node:zlib';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDb, type RunningServer } from '@invoice-pipeline/local-emulators';
import { startTestKinesis, startTestS3, type TestKinesis, type TestS3 } from '@invoice-pipeline/local-emulators/testing';
import { HEADER_SK, invoiceKey, linesSk, normaliseInvoice, type Invoice, type NormalisedLine } from '@invoice-pipeline/transactions';
import { BUNDLED_SAMPLES, groupInvoices, InvoiceTally, readSource, Tally, type Totals } from '@invoice-pipeline/transactions/files';
import { countBadRecords, readArchiveTotals, readDynamoDbTotals, readStreamTotals, SharedRecords } from './reconcile';

const invoice = (invoiceNo: string, prices: string[], quantity = 2): Invoice => ({
  invoiceNo,
  invoiceDate: '2010-12-01T08:26:00',
  customerId: '17850',
  country: 'United Kingdom',
  storeId: 'store-001',
  lines: prices.map((unitPrice, index) => ({ stockCode: `S${index}`, description: 'WHITE HANGING HEART T-LIGHT HOLDER', quantity, unitPrice })),
});

/** The reference tally: lines counted once per (invoiceNo, lineNo); `repeated` counts the others. */
class KeyedTally {
  private readonly tally = new Tally();
  private readonly seen = new Set<string>();
  repeated = 0;

  add(lines: Iterable<NormalisedLine>): void {
    for (const line of lines) {
      const key = `${line.invoiceNo}#${line.lineNo}`;
      if (this.seen.has(key)) this.repeated += 1;
      else {
        this.seen.add(key);
        this.tally.add(line);
      }
    }
  }

  totals(): Totals {
    return this.tally.totals();
  }
}

/** What the readers must agree with: the line-by-line tally of the lines each record normalises to. */
function expectedTotals(invoices: Invoice[]) {
  const keyed = new KeyedTally();
  for (const each of invoices) keyed.add(normaliseInvoice(each));
  return { totals: keyed.totals(), repeated: keyed.repeated };
}

describe('InvoiceTally (per invoice) against KeyedTally over normaliseInvoice (per line)', () => {
  it('gives the same totals and repeats on the Kaggle-layout sample sent once, again, shorter, longer and changed', async () => {
    const invoices: Invoice[] = [];
    for await (const item of groupInvoices(readSource(BUNDLED_SAMPLES.kaggleHead))) if (item.kind === 'invoice') invoices.push(item.invoice);
    expect(invoices.length).toBeGreaterThan(50);
    const resent = [
      ...invoices,
      ...invoices.slice(0, 10), // re-POSTed as they were
      ...invoices.slice(10, 20).map((each) => ({ ...each, lines: each.lines.slice(0, 1) })), // a shorter version: all repeats
      ...invoices.slice(20, 30).map((each) => ({ ...each, lines: [...each.lines, { ...each.lines[0]!, unitPrice: '1000.001' }] })), // one line more
      ...invoices.slice(30, 40).map((each) => ({ ...each, lines: each.lines.map((line) => ({ ...line, unitPrice: '9.999' })) })), // changed: the first wins
      invoice('A563185', ['-11062.06'], 1),
      invoice('C536379', ['27.5'], -1),
    ];
    const tally = new InvoiceTally();
    for (const each of resent) tally.add(each);
    const expected = expectedTotals(resent);
    expect(tally.totals()).toEqual(expected.totals);
    expect(tally.repeated).toBe(expected.repeated);
    expect(tally.repeated).toBeGreaterThan(0);
  });
});

describe('the sink readers of the reconciliation', () => {
  let kinesis: TestKinesis;
  let s3: TestS3;
  let dynamo: RunningServer;
  let dynamodb: DynamoDBClient;
  const bucket = 'archive';
  const table = 'invoices';

  beforeAll(async () => {
    [kinesis, s3, dynamo] = await Promise.all([startTestKinesis(), startTestS3([bucket]), startDynamoDb({ port: 0 })]);
    dynamodb = new DynamoDBClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials: { ...LOCAL_CREDENTIALS } });
  }, 60_000);
  afterAll(async () => {
    dynamodb?.destroy();
    await Promise.all([kinesis?.stop(), s3?.stop(), dynamo?.stop()]);
  });

  it('stream: every record past a GetRecords page (10,000) once; re-sent lines and invalid records counted as before', async () => {
    await kinesis.createStream('one-shard', 1);
    const sent = Array.from({ length: 10_050 }, (_, index) => invoice(String(600_000 + index), [`${index % 7}.125`]));
    const resent = sent.slice(0, 3);
    const texts = [...sent, ...resent].map((each) => JSON.stringify(each));
    texts.push('{"not json', JSON.stringify({ ...invoice('600001', ['1']), lines: [] }), JSON.stringify({ ...invoice('600002', ['1']), storeId: 7 }));
    for (let from = 0; from < texts.length; from += 500) {
      const reply = await kinesis.client.send(
        new PutRecordsCommand({ StreamName: 'one-shard', Records: texts.slice(from, from + 500).map((text) => ({ Data: Buffer.from(text), PartitionKey: 'p' })) }),
      );
      expect(reply.FailedRecordCount).toBe(0);
    }
    const expected = expectedTotals([...sent, ...resent]);
    expect(await readStreamTotals(kinesis.client, 'one-shard')).toEqual({
      ...expected.totals,
      records: texts.length,
      duplicateLines: 3,
      invalidRecords: 3,
    });
  }, 120_000);

  it('stream: every shard of several read, each record once, the shards in turn', async () => {
    await kinesis.createStream('three-shards', 3);
    const sent = Array.from({ length: 300 }, (_, index) => invoice(String(610_000 + index), [`${index % 11}.5`, '0.001']));
    const texts = [...sent.map((each) => JSON.stringify(each)), JSON.stringify(sent[7]), JSON.stringify({ ...sent[8], lines: [] })];
    const reply = await kinesis.client.send(
      new PutRecordsCommand({ StreamName: 'three-shards', Records: texts.map((text) => ({ Data: Buffer.from(text), PartitionKey: (JSON.parse(text) as Invoice).invoiceNo })) }),
    );
    expect(reply.FailedRecordCount).toBe(0);
    const records = await kinesis.readAll('three-shards');
    expect(new Set(records.map((record) => record.shardId)).size).toBe(3);
    expect(records.map((record) => record.shardId)).toEqual([...records.map((record) => record.shardId)].sort());
    expect(await readStreamTotals(kinesis.client, 'three-shards')).toEqual({ ...expectedTotals([...sent, sent[7]!]).totals, records: 302, duplicateLines: 2, invalidRecords: 1 });
  }, 60_000);

  it('archive: objects in key order (a gzipped one too, more than are fetched at once), each record once, invalid ones counted', async () => {
    const first = invoice('536365', ['2.55', '3.39']);
    const changed = { ...first, lines: first.lines.map((line) => ({ ...line, unitPrice: '100' })) };
    const objects: Array<{ key: string; records: unknown[]; gzip?: boolean }> = [
      { key: 'raw/dt=2010-12-01/a', records: [first, invoice('536366', ['1.85'])] },
      { key: 'raw/dt=2010-12-01/b', records: [invoice('C536379', ['27.5'], -1)], gzip: true },
      { key: 'raw/dt=2010-12-01/c', records: [{ ...invoice('536367', ['1']), lines: [{ stockCode: 'X', description: null, quantity: 1, unitPrice: 1.5 }] }] },
      ...Array.from({ length: 6 }, (_, index) => ({ key: `raw/dt=2010-12-02/${index}`, records: [invoice(String(536_400 + index), ['0.001', '18'])] })),
      { key: 'raw/dt=2010-12-03/z', records: [changed, invoice('A563185', ['-11062.06'], 1)] }, // the re-sent version comes last: the first counts
    ];
    for (const { key, records, gzip } of objects) {
      const text = records.map((record) => JSON.stringify(record)).join(records.length > 1 ? '\n' : '');
      await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzip ? gzipSync(text) : text }));
    }
    await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'bad-rows/one', Body: '{}' }));
    await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'bad-rows/two', Body: '{}' }));
    const valid = objects.flatMap((object) => object.records).filter((record) => (record as Invoice).invoiceNo !== '536367') as Invoice[];
    const expected = expectedTotals(valid);
    // Order matters where a line came twice with different amounts: the later version read first would total otherwise.
    expect(expectedTotals([changed, ...valid]).totals.revenue).not.toBe(expected.totals.revenue);
    expect(await readArchiveTotals(s3.client, bucket)).toEqual({ ...expected.totals, records: 12, duplicateLines: 2, invalidRecords: 1 });
    expect(await countBadRecords(s3.client, bucket)).toBe(2);
  }, 60_000);

  it('stream and archive sharing what each record text validated to: the same totals as each alone, read at once or one after the other', async () => {
    const valid = [invoice('537001', ['2.55', '3.39']), invoice('C537002', ['27.5'], -1), invoice('537003', ['0.001'])];
    const texts = [
      ...valid.map((each) => JSON.stringify(each)),
      JSON.stringify(valid[0]), // re-sent as it was: the same text
      JSON.stringify({ ...invoice('537004', ['1']), lines: [] }), // invalid in both
      // A number at the top: the stream reads 1e5 as a number (invalid), the archive's COPY-style parse keeps "1e5" (valid).
      JSON.stringify(invoice('537005', ['1'])).replace('"customerId":"17850"', '"customerId":1e5'),
    ];
    await kinesis.createStream('shared', 1);
    const reply = await kinesis.client.send(new PutRecordsCommand({ StreamName: 'shared', Records: texts.map((text) => ({ Data: Buffer.from(text), PartitionKey: 'p' })) }));
    expect(reply.FailedRecordCount).toBe(0);
    await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'shared/a', Body: texts.slice(0, 3).join('') }));
    await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'shared/b', Body: texts.slice(3).join('\n') }));
    const alone = { stream: await readStreamTotals(kinesis.client, 'shared'), archive: await readArchiveTotals(s3.client, bucket, 'shared/') };
    expect(alone.stream).toMatchObject({ records: 6, duplicateLines: 2, invalidRecords: 2, lines: 4 });
    expect(alone.archive).toMatchObject({ records: 6, duplicateLines: 2, invalidRecords: 1, lines: 5 });

    const atOnce = new SharedRecords();
    expect(await Promise.all([readStreamTotals(kinesis.client, 'shared', atOnce), readArchiveTotals(s3.client, bucket, 'shared/', atOnce)])).toEqual([alone.stream, alone.archive]);
    const streamFirst = new SharedRecords();
    expect(await readStreamTotals(kinesis.client, 'shared', streamFirst)).toEqual(alone.stream);
    expect(await readArchiveTotals(s3.client, bucket, 'shared/', streamFirst)).toEqual(alone.archive);
    const archiveFirst = new SharedRecords();
    expect(await readArchiveTotals(s3.client, bucket, 'shared/', archiveFirst)).toEqual(alone.archive);
    expect(await readStreamTotals(kinesis.client, 'shared', archiveFirst)).toEqual(alone.stream);
  }, 60_000);

  it('DynamoDB: a parallel scan in segments and pages sees every item once, and an item of more lines than projected whole', async () => {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: table,
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    // The stream processor's layout: a header and LINES# items of up to 100 lines; one item of 150 (more than projected).
    const invoices = [
      ...Array.from({ length: 40 }, (_, index) => invoice(String(540_000 + index), Array.from({ length: 1 + (index % 5) }, (__, line) => `${line}.${index % 10}5`))),
      invoice('581483', Array.from({ length: 230 }, (_, line) => `${line % 13}.001`), 3),
      invoice('C581484', Array.from({ length: 150 }, (_, line) => `${line % 3}.5`), -1),
      invoice('A563185', ['-11062.06'], 1),
    ];
    const put = (item: Record<string, unknown>) => dynamodb.send(new PutItemCommand({ TableName: table, Item: marshall(item) as Record<string, AttributeValue> }));
    for (const each of invoices) {
      const lines = normaliseInvoice(each);
      await put({ pk: invoiceKey(each.invoiceNo), sk: HEADER_SK, lineCount: lines.length, invoiceNo: each.invoiceNo });
      const perItem = each.invoiceNo === 'C581484' ? 150 : 100;
      for (let chunk = 0; chunk * perItem < lines.length; chunk += 1) {
        const items = lines.slice(chunk * perItem, (chunk + 1) * perItem).map((line) => ({ lineNo: line.lineNo, stockCode: line.stockCode, quantity: line.quantity, lineTotal: line.lineTotal }));
        // lineTotal as a DynamoDB number, as the stream processor writes it
        await dynamodb.send(
          new PutItemCommand({
            TableName: table,
            Item: { ...(marshall({ pk: invoiceKey(each.invoiceNo), sk: linesSk(chunk + 1) }) as Record<string, AttributeValue>), lines: { L: items.map((line) => ({ M: { ...(marshall({ lineNo: line.lineNo, stockCode: line.stockCode, quantity: line.quantity }) as Record<string, AttributeValue>), lineTotal: { N: line.lineTotal } } })) } },
          }),
        );
      }
    }
    const expected = { ...expectedTotals(invoices).totals, records: invoices.length };
    expect(await readDynamoDbTotals(dynamodb, table, { segments: 1 })).toEqual(expected);
    expect(await readDynamoDbTotals(dynamodb, table, { segments: 3, pageLimit: 4 })).toEqual(expected);
    expect(await readDynamoDbTotals(dynamodb, table)).toEqual(expected);
  }, 60_000);
});
