import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  countBadRecords,
  localLambdaEnvironment,
  readDynamoDbTotals,
  readWarehouseTotals,
  startKinesisEventSource,
  type BatchResult,
  type FailedBatch,
  type KinesisEventRecord,
  type LocalStack,
} from '@invoice-pipeline/local-stack';
import { startTestStack } from '@invoice-pipeline/local-stack/testing';
import { normaliseInvoice, type Invoice } from '@invoice-pipeline/transactions';
import { BUNDLED_SAMPLES, groupInvoices, readSource, Tally, type Totals } from '@invoice-pipeline/transactions/files';
import type { Context, KinesisStreamEvent, KinesisStreamBatchResponse } from 'aws-lambda';

type Handler = (event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse>;

const context = {
  functionName: 'invoice-stream-processor-local-processInvoices',
  functionVersion: '$LATEST',
  awsRequestId: 'local',
  memoryLimitInMB: '512',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-2:000000000000:function:invoice-stream-processor-local-processInvoices',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

/**
 * The streaming path on the local stack, with the real processInvoices handler: records on the real stream, the local
 * event source mapping (partial batch responses, bisection, retries, on-failure), real DynamoDB, Firehose, warehouse, S3.
 */
describe('the stream processor on the local stack', () => {
  let stack: LocalStack & { dir: string };
  let handler: Handler;
  let invoices: Invoice[];
  let expected: Totals;
  let streamName: string;
  const failedBatches: FailedBatch[] = [];

  const names = () => ({
    table: stack.endpoints.outputs['stream-processor']?.TableName as string,
    archive: stack.endpoints.outputs['stream-processor']?.ArchiveBucketName as string,
  });

  async function putRecords(payloads: string[]): Promise<void> {
    for (let start = 0; start < payloads.length; start += 500) {
      const chunk = payloads.slice(start, start + 500);
      const reply = await stack.clients.kinesis.send(
        new PutRecordsCommand({ StreamName: streamName, Records: chunk.map((data, i) => ({ Data: Buffer.from(data), PartitionKey: `k${start + i}` })) }),
      );
      expect(reply.FailedRecordCount ?? 0).toBe(0);
    }
  }

  /** Puts invoices on the real stream and returns the Kinesis records as Lambda would hand them over. */
  async function streamRecords(payloads: string[]): Promise<KinesisEventRecord[]> {
    const reply = await stack.clients.kinesis.send(
      new PutRecordsCommand({ StreamName: streamName, Records: payloads.map((data) => ({ Data: Buffer.from(data), PartitionKey: (JSON.parse(data) as Invoice).invoiceNo ?? 'x' })) }),
    );
    return (reply.Records ?? []).map((result, index) => ({
      kinesis: { kinesisSchemaVersion: '1.0', partitionKey: 'p', sequenceNumber: result.SequenceNumber as string, data: Buffer.from(payloads[index] as string).toString('base64'), approximateArrivalTimestamp: Date.now() / 1000 },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${result.ShardId}:${result.SequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/local',
      awsRegion: stack.endpoints.region,
      eventSourceARN: stack.endpoints.outputs.ingest?.StreamArn as string,
    }));
  }

  const deliver = (records: KinesisEventRecord[]) => handler({ Records: records } as KinesisStreamEvent, context);

  /** What each keyed sink holds of one invoice: DynamoDB (header and lines) and the warehouse. */
  async function invoiceInSinks(invoiceNo: string) {
    const { Items: items = [] } = await DynamoDBDocumentClient.from(stack.clients.dynamodb).send(
      new QueryCommand({ TableName: names().table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `INVOICE#${invoiceNo}` } }),
    );
    const header = items.find((item) => item.sk === '#HEADER');
    const lines = items.filter((item) => item.sk !== '#HEADER').flatMap((item) => item.lines as Array<{ lineNo: number; unitPrice: unknown }>);
    const warehouse = await stack.warehouse.query<{ line_no: number; unit_price: string }>(
      `SELECT line_no, unit_price::text FROM invoice_lines WHERE invoice_no = $1 ORDER BY line_no`,
      [invoiceNo],
    );
    return {
      dynamodb: { lineCount: header?.lineCount, total: header ? String(header.total) : undefined, lines: lines.map((l) => `${l.lineNo}@${String(l.unitPrice)}`) },
      warehouse: warehouse.map((row) => `${row.line_no}@${Number(row.unit_price)}`),
    };
  }

  const version = (invoiceNo: string, lineCount: number, unitPrice: string): Invoice => ({
    ...(invoices[0] as Invoice),
    invoiceNo,
    lines: Array.from({ length: lineCount }, (_, i) => ({ stockCode: `V${i}`, description: null, quantity: 1, unitPrice })),
  });

  async function badRowReasons(): Promise<string[]> {
    const { Contents = [] } = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: names().archive, Prefix: 'bad-rows/' }));
    return Promise.all(
      Contents.map(async ({ Key }) => {
        const object = await stack.clients.s3.send(new GetObjectCommand({ Bucket: names().archive, Key }));
        return (JSON.parse((await object.Body?.transformToString()) ?? '{}') as { reason: string }).reason;
      }),
    );
  }

  async function settle(): Promise<void> {
    await stack.firehose.flush();
    await stack.mergeWarehouse();
  }

  beforeAll(async () => {
    stack = await startTestStack({ firehoseRetry: { baseDelayMs: 20, maxDelayMs: 100 } });
    streamName = stack.endpoints.outputs.ingest?.StreamName as string;
    Object.assign(process.env, localLambdaEnvironment(stack.endpoints), {
      TABLE_NAME: names().table,
      WAREHOUSE_DELIVERY_STREAM: stack.endpoints.resources['stream-processor']?.WarehouseDeliveryStream?.name,
      BAD_ROWS_BUCKET: names().archive,
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    });
    handler = (await import('../src/functions/process-invoices/handler')).main as unknown as Handler;

    invoices = [];
    for await (const item of groupInvoices(readSource(BUNDLED_SAMPLES.kaggleHead))) if (item.kind === 'invoice') invoices.push(item.invoice);
    expected = new Tally().addAll(invoices.flatMap((invoice) => normaliseInvoice(invoice))).totals();
  }, 300_000); // the local stack starts PGlite, which compiles its WASM: slow on a loaded machine

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('lands every line exactly once in DynamoDB and the warehouse, sets a poison record aside, survives a crash mid-batch and a redelivery', async () => {
    // A poison record in the middle of the stream, and the first batch crashing after doing part of its work.
    const payloads = invoices.map((invoice) => JSON.stringify(invoice));
    payloads.splice(30, 0, '{"invoiceNo": "536999", "lines": "not a list"}');
    payloads.splice(45, 0, 'not json at all');
    await putRecords(payloads);

    let crashes = 1;
    const delivered: KinesisEventRecord[][] = [];
    const invoke = async (event: { Records: KinesisEventRecord[] }): Promise<BatchResult> => {
      delivered.push(event.Records);
      if (crashes > 0 && event.Records.length > 4) {
        crashes -= 1;
        // The container dies after landing the first half of the batch: Lambda retries the whole batch.
        await handler({ Records: event.Records.slice(0, Math.floor(event.Records.length / 2)) } as KinesisStreamEvent, context);
        throw new Error('Runtime exited with error: signal: killed');
      }
      return handler(event as KinesisStreamEvent, context);
    };
    const source = await startKinesisEventSource({
      kinesis: stack.clients.kinesis,
      streamName,
      streamArn: stack.endpoints.outputs.ingest?.StreamArn as string,
      region: stack.endpoints.region,
      invoke,
      onFailure: async (failed) => void failedBatches.push(failed),
      batchSize: 25,
      maximumRetryAttempts: 3,
      bisectBatchOnFunctionError: true,
      reportBatchItemFailures: true,
    });
    try {
      await source.drain(60_000);
    } finally {
      await source.stop();
    }
    await settle();

    expect(crashes).toBe(0);
    expect(source.stats().retries).toBeGreaterThan(0);
    expect(failedBatches).toEqual([]);
    expect(await countBadRecords(stack.clients.s3, names().archive)).toBe(2);
    expect(await readDynamoDbTotals(stack.clients.dynamodb, names().table)).toMatchObject({ ...expected, records: invoices.length });
    expect(await readWarehouseTotals(stack.warehouse)).toEqual({ ...expected, staged: 0 });

    // The same batches delivered again (at-least-once): nothing changes anywhere.
    for (const records of delivered) await handler({ Records: records } as KinesisStreamEvent, context);
    await settle();
    expect(await readDynamoDbTotals(stack.clients.dynamodb, names().table)).toMatchObject({ ...expected, records: invoices.length });
    expect(await readWarehouseTotals(stack.warehouse)).toEqual({ ...expected, staged: 0 });
    expect(await countBadRecords(stack.clients.s3, names().archive)).toBe(2);
    expect(expected.lines).toBe(1_071);
    expect(expected.revenue).toBe('24747.38');
  }, 120_000);

  it('reports a record whose sinks keep failing as a batch item failure, and the event source sends it on-failure, not lost', async () => {
    const before = await readWarehouseTotals(stack.warehouse);
    const name = stack.endpoints.resources['stream-processor']?.WarehouseDeliveryStream?.name as string;
    // Firehose rejects every record of this invoice: the processor must not report success for it.
    stack.firehose.injectPutFailures(name, { match: ({ data }) => data.toString().includes('"invoice_no":"999001"') });
    const poisonous: Invoice = { ...(invoices[0] as Invoice), invoiceNo: '999001' };
    const event = {
      Records: [
        {
          kinesis: { data: Buffer.from(JSON.stringify(poisonous)).toString('base64'), sequenceNumber: '1', partitionKey: '999001', approximateArrivalTimestamp: Date.now() / 1000, kinesisSchemaVersion: '1.0' },
          eventID: 'shardId-000000000000:1',
          eventSourceARN: 'arn',
        },
      ],
    } as unknown as KinesisStreamEvent;
    const reply = await handler(event, context).catch((error: Error) => ({ thrown: error.message }));
    stack.firehose.clearPutFailures();
    expect(reply).toEqual(expect.objectContaining({ thrown: expect.stringMatching(/All records failed/) }));
    await settle();
    expect(await readWarehouseTotals(stack.warehouse)).toEqual(before);
  }, 120_000);

  it('replaces an invoice re-sent with fewer lines whole, in DynamoDB and the warehouse', async () => {
    const [first] = await streamRecords([JSON.stringify(version('900001', 250, '1'))]);
    expect(await deliver([first as KinesisEventRecord])).toEqual({ batchItemFailures: [] });
    await settle();
    expect((await invoiceInSinks('900001')).warehouse).toHaveLength(250);
    const [second] = await streamRecords([JSON.stringify(version('900001', 3, '2'))]);
    expect(await deliver([second as KinesisEventRecord])).toEqual({ batchItemFailures: [] });
    await settle();
    const expected = ['1@2', '2@2', '3@2'];
    expect(await invoiceInSinks('900001')).toEqual({ dynamodb: { lineCount: 3, total: '6', lines: expected }, warehouse: expected });
  }, 120_000);

  it('never lets an older version win: not in one batch, not when the older one is delivered again later', async () => {
    const [older, newer] = await streamRecords([JSON.stringify(version('900002', 150, '1')), JSON.stringify(version('900002', 2, '3'))]);
    // Both versions in one batch (processed in parallel), newer first in the batch.
    expect(await deliver([newer as KinesisEventRecord, older as KinesisEventRecord])).toEqual({ batchItemFailures: [] });
    await settle();
    const expected = { dynamodb: { lineCount: 2, total: '6', lines: ['1@3', '2@3'] }, warehouse: ['1@3', '2@3'] };
    expect(await invoiceInSinks('900002')).toEqual(expected);
    // The older version alone, later (a retried batch, a replay): nothing changes.
    expect(await deliver([older as KinesisEventRecord])).toEqual({ batchItemFailures: [] });
    await settle();
    expect(await invoiceInSinks('900002')).toEqual(expected);
  }, 120_000);

  it('never lets one store replace another store\'s invoice number: the intruder becomes a bad row, the owner\'s invoice stays whole', async () => {
    const badBefore = await countBadRecords(stack.clients.s3, names().archive);
    const owner = version('900007', 3, '4');
    const [first] = await streamRecords([JSON.stringify(owner)]);
    expect(await deliver([first as KinesisEventRecord])).toEqual({ batchItemFailures: [] });
    // A newer record (later sequence number) for the same number from another store, then the owner's own update.
    const [intruder, update] = await streamRecords([JSON.stringify({ ...version('900007', 1, '9'), storeId: 'another-store' }), JSON.stringify(version('900007', 2, '5'))]);
    expect(await deliver([intruder as KinesisEventRecord])).toEqual({ batchItemFailures: [] });
    await settle();
    const owned = { dynamodb: { lineCount: 3, total: '12', lines: ['1@4', '2@4', '3@4'] }, warehouse: ['1@4', '2@4', '3@4'] };
    expect(await invoiceInSinks('900007')).toEqual(owned);
    expect(await countBadRecords(stack.clients.s3, names().archive)).toBe(badBefore + 1);
    const reasons = await badRowReasons();
    expect(reasons).toContainEqual(expect.stringMatching(/storeId: invoice 900007 belongs to store .+; store another-store may not replace it/));
    // The owner may still replace its own invoice.
    expect(await deliver([update as KinesisEventRecord])).toEqual({ batchItemFailures: [] });
    await settle();
    expect(await invoiceInSinks('900007')).toEqual({ dynamodb: { lineCount: 2, total: '10', lines: ['1@5', '2@5'] }, warehouse: ['1@5', '2@5'] });
  }, 120_000);

  it('turns an invoice a sink would refuse into a bad row with its reason; its neighbours in the batch and the Firehose file land', async () => {
    const badBefore = await countBadRecords(stack.clients.s3, names().archive);
    const refused = [version('900003', 2, '123456789012345678901234567890'), { ...version('900004', 1, '1'), lines: [{ stockCode: 'X', description: 'lone \ud800', quantity: 1, unitPrice: '1' }] }];
    const neighbours = [version('900005', 4, '2.5'), version('900006', 1, '0.001')];
    const records = await streamRecords([JSON.stringify(neighbours[0]), ...refused.map((r) => JSON.stringify(r)), JSON.stringify(neighbours[1])]);
    expect(await deliver(records)).toEqual({ batchItemFailures: [] });
    await settle();
    expect(await countBadRecords(stack.clients.s3, names().archive)).toBe(badBefore + 2);
    expect((await invoiceInSinks('900005')).warehouse).toEqual(['1@2.5', '2@2.5', '3@2.5', '4@2.5']);
    expect((await invoiceInSinks('900006')).warehouse).toEqual(['1@0.001']);
    expect((await invoiceInSinks('900005')).dynamodb.lineCount).toBe(4);
    for (const invoiceNo of ['900003', '900004']) expect(await invoiceInSinks(invoiceNo)).toEqual({ dynamodb: { lineCount: undefined, total: undefined, lines: [] }, warehouse: [] });
    const warehouseName = stack.endpoints.resources['stream-processor']?.WarehouseDeliveryStream?.name as string;
    expect(stack.firehose.stats(warehouseName)).toMatchObject({ failed: 0, inFlight: 0 });
  }, 120_000);
});
