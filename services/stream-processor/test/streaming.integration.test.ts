import { CreateStreamCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
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
import { startTestStack, startUnprocessedItemsProxy, type WireWriteRequest } from '@invoice-pipeline/local-stack/testing';
import { normaliseInvoice, recordVersion, type Invoice } from '@invoice-pipeline/transactions';
import { packWarehouseRecords } from '../src/invoices/send-warehouse';
import { redriveBadRows, redriveFailureQueue, redriveFirehoseErrors } from '../src/redrive/redrive';
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

  it('lands everything exactly once when DynamoDB leaves items unprocessed; a record whose items stay unprocessed is reported, then lands on its retry', async () => {
    const table = names().table;
    const before = { dynamodb: await readDynamoDbTotals(stack.clients.dynamodb, table), warehouse: await readWarehouseTotals(stack.warehouse) };
    // Throttled DynamoDB: every third write request is left unprocessed the first two times it is sent; the line
    // items of 930004 are left unprocessed every time until `stuck` is lifted (longer than the processor's retries).
    let stuck = true;
    const pkOf = (request: WireWriteRequest) => JSON.stringify(request.PutRequest?.Item.pk ?? request.DeleteRequest?.Key.pk);
    let counter = 0;
    const proxy = await startUnprocessedItemsProxy({
      target: stack.endpoints.dynamodb,
      leaveUnprocessed: (request, seen) => (stuck && pkOf(request).includes('INVOICE#930004')) || (seen <= 2 && (counter += 1) % 3 === 0),
    });
    // The real handler, built at cold start as in Lambda, with DynamoDB behind the proxy (the SDK reads the endpoint
    // from the environment at its first call, so it points there for the whole test).
    const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = proxy.endpoint;
    let throttled: Handler | undefined;
    await jest.isolateModulesAsync(async () => {
      throttled = (await import('../src/functions/process-invoices/handler')).main as unknown as Handler;
    });
    try {
      const sent = Array.from({ length: 12 }, (_, i) => version(String(930_000 + i), [1, 7, 130, 250, 40, 3][i % 6] as number, `${i + 1}.25`));
      const records = await streamRecords(sent.map((invoice) => JSON.stringify(invoice)));
      const first = await (throttled as Handler)({ Records: records } as KinesisStreamEvent, context);
      expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: records[4]?.kinesis.sequenceNumber }] });
      // 930004's item on each of the processor's 9 attempts, and every third of the others' (once or twice each).
      expect(proxy.stats().leftUnprocessed).toBeGreaterThan(9 + 3);
      await settle();
      expect((await invoiceInSinks('930004')).warehouse).toEqual([]);
      expect((await invoiceInSinks('930003')).warehouse).toHaveLength(250);

      // Lambda retries from the failed record on; the throttling has eased.
      stuck = false;
      expect(await (throttled as Handler)({ Records: records.slice(4) } as KinesisStreamEvent, context)).toEqual({ batchItemFailures: [] });
      await settle();
      const expected = new Tally().addAll(sent.flatMap((invoice) => normaliseInvoice(invoice))).totals();
      const after = { dynamodb: await readDynamoDbTotals(stack.clients.dynamodb, table), warehouse: await readWarehouseTotals(stack.warehouse) };
      expect([after.dynamodb.lines - before.dynamodb.lines, after.dynamodb.invoices - before.dynamodb.invoices]).toEqual([expected.lines, expected.invoices]);
      expect([after.warehouse.lines - before.warehouse.lines, after.warehouse.invoices - before.warehouse.invoices, after.warehouse.staged]).toEqual([expected.lines, expected.invoices, 0]);
      for (const invoice of sent) {
        const lines = invoice.lines.map((line, i) => `${i + 1}@${Number(line.unitPrice)}`);
        expect(await invoiceInSinks(invoice.invoiceNo)).toEqual({ dynamodb: { lineCount: invoice.lines.length, total: expect.any(String), lines }, warehouse: lines });
      }
    } finally {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
      await proxy.stop();
    }
  }, 120_000);

  it('survives the warehouse being down for a while: nothing lost, exact lines and totals once it is back', async () => {
    const before = await readWarehouseTotals(stack.warehouse);
    // The loader's COPY + MERGE transaction fails as an unreachable warehouse would; its staged files wait in S3.
    const transaction = stack.warehouse.transaction;
    let down = true;
    let refused = 0;
    stack.warehouse.transaction = (async (...args: Parameters<typeof transaction>) => {
      if (down) {
        refused += 1;
        throw new Error('connect ECONNREFUSED 127.0.0.1:5439');
      }
      return transaction.apply(stack.warehouse, args);
    }) as typeof transaction;
    try {
      const sent = [version('920001', 7, '1.1'), version('920002', 130, '0.333'), version('920003', 1, '0')];
      expect(await deliver(await streamRecords(sent.map((i) => JSON.stringify(i))))).toEqual({ batchItemFailures: [] });
      // Firehose has staged the rows; the loader keeps trying its COPY + MERGE while the warehouse is down.
      await stack.firehose.flush();
      const deadline = Date.now() + 20_000;
      while (refused < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(refused).toBeGreaterThanOrEqual(3);
      expect((await invoiceInSinks('920002')).warehouse).toEqual([]);
      down = false;
      await settle();
      expect((await invoiceInSinks('920002')).warehouse).toHaveLength(130);
      const expected = new Tally().addAll(sent.flatMap((i) => normaliseInvoice(i))).totals();
      const after = await readWarehouseTotals(stack.warehouse);
      expect(after.lines).toBe(before.lines + expected.lines);
      expect(after.invoices).toBe(before.invoices + expected.invoices);
      expect(after.staged).toBe(0);
    } finally {
      stack.warehouse.transaction = transaction;
    }
  }, 120_000);

  it('replays what was set aside (failure-queue batches, fixed bad rows, Firehose error output) back through the pipeline; a second replay changes no total', async () => {
    const region = stack.endpoints.region;
    const sqs = stack.sqs;
    const { QueueUrl: queueUrl = '' } = await sqs.send(new GetQueueUrlCommand({ QueueName: stack.endpoints.resources['stream-processor']?.FailureQueue?.name }));
    const invoke = (event: { Records: unknown[] }) => handler(event as KinesisStreamEvent, context);
    const table = { dynamodb: DynamoDBDocumentClient.from(stack.clients.dynamodb), tableName: names().table };
    const staging = stack.endpoints.outputs.warehouse?.StagingBucketName as string;
    const warehouseStream = stack.endpoints.resources['stream-processor']?.WarehouseDeliveryStream?.name as string;

    // 1. A batch the processor keeps failing on (its own small stream): Lambda gives it up to the failure queue.
    const failing = 'redrive-test';
    const streamArn = `arn:aws:kinesis:${region}:000000000000:stream/${failing}`;
    await stack.clients.kinesis.send(new CreateStreamCommand({ StreamName: failing, ShardCount: 1 }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const lost = [version('910001', 3, '1.5'), version('910002', 120, '0.125'), version('910003', 1, '7')];
    await stack.clients.kinesis.send(new PutRecordsCommand({ StreamName: failing, Records: lost.map((i) => ({ Data: Buffer.from(JSON.stringify(i)), PartitionKey: i.invoiceNo })) }));
    const source = await startKinesisEventSource({
      kinesis: stack.clients.kinesis,
      streamName: failing,
      streamArn,
      region,
      maximumRetryAttempts: 1,
      bisectBatchOnFunctionError: true,
      invoke: async () => ({ functionError: 'Unhandled: DynamoDB unreachable' }),
      onFailure: async (failed) => void (await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(failed) }))),
    });
    try {
      await source.drain(30_000);
    } finally {
      await source.stop();
    }
    const { Messages: sent = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
    expect(sent.length).toBeGreaterThan(0);
    for (const message of sent) {
      expect(JSON.parse(message.Body ?? '{}')).toMatchObject({ requestContext: { condition: 'RetryAttemptsExhausted' }, KinesisBatchInfo: { streamArn, shardId: 'shardId-000000000000' } });
      expect(message.Body).not.toContain(Buffer.from(JSON.stringify(lost[0])).toString('base64').slice(0, 40));
    }

    // 2. A bad row, then fixed in place by an operator.
    const [broken] = await streamRecords([JSON.stringify({ ...version('910004', 2, '3'), lines: 'not a list' })]);
    await deliver([broken as KinesisEventRecord]);
    const { Contents = [] } = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: names().archive, Prefix: 'bad-rows/' }));
    const badKey = Contents.map((o) => o.Key as string).find((key) => key.endsWith(`/${broken?.kinesis.sequenceNumber}.json`)) as string;
    const badRow = JSON.parse((await (await stack.clients.s3.send(new GetObjectCommand({ Bucket: names().archive, Key: badKey }))).Body?.transformToString()) ?? '{}');
    const fixedRow = JSON.stringify({ ...badRow, data: Buffer.from(JSON.stringify(version('910004', 2, '3'))).toString('base64') });
    await stack.clients.s3.send(new PutObjectCommand({ Bucket: names().archive, Key: badKey, Body: fixedRow }));

    // 3. Firehose error output of the warehouse stream (its error record shape): rows of a load that never happened.
    const errorKey = 'firehose-errors/warehouse/2026/11/25/16/warehouse-1-error';
    const rows = packWarehouseRecords(normaliseInvoice(version('910005', 4, '2.25')), recordVersion('7'));
    const errorBody = rows.map((row) => JSON.stringify({ attemptsMade: 4, arrivalTimestamp: Date.now(), errorCode: 'Redshift.ConnectionFailed', errorMessage: 'down', attemptEndingTimestamp: Date.now(), rawData: row.toString('base64') })).join('\n');
    await stack.clients.s3.send(new PutObjectCommand({ Bucket: staging, Key: errorKey, Body: errorBody }));
    for (const invoiceNo of ['910001', '910002', '910003', '910004', '910005']) expect((await invoiceInSinks(invoiceNo)).warehouse).toEqual([]);

    const replay = async () => ({
      failures: await redriveFailureQueue({ sqs, queueUrl, kinesis: stack.clients.kinesis, invoke, region }),
      badRows: await redriveBadRows({ s3: stack.clients.s3, bucket: names().archive, table, invoke, region }),
      firehose: await redriveFirehoseErrors({ s3: stack.clients.s3, warehouse: { bucket: staging, target: { firehose: stack.clients.firehose, deliveryStreamName: warehouseStream } } }),
    });
    const first = await replay();
    await settle();
    expect(first.failures).toMatchObject({ replayed: 3, records: 3, kept: [] });
    expect(first.badRows.replayed).toBe(1);
    expect(first.badRows.stillInvalid).not.toContain(badKey);
    // The other bad rows of this run stay: still invalid, or refused again (the intruding store's record among them).
    expect(first.badRows.rows).toBe(1 + first.badRows.stillInvalid.length + first.badRows.refusedAgain.length);
    expect(first.badRows.refusedAgain.length).toBeGreaterThanOrEqual(1);
    expect(first.firehose).toMatchObject({ objects: 1, warehouseRecords: 1 });
    const lines = (n: number, price: string) => Array.from({ length: n }, (_, i) => `${i + 1}@${Number(price)}`);
    expect((await invoiceInSinks('910001')).warehouse).toEqual(lines(3, '1.5'));
    expect((await invoiceInSinks('910002')).dynamodb.lineCount).toBe(120);
    expect((await invoiceInSinks('910004')).warehouse).toEqual(lines(2, '3'));
    expect((await invoiceInSinks('910005')).warehouse).toEqual(lines(4, '2.25'));
    const after = { dynamodb: await readDynamoDbTotals(stack.clients.dynamodb, names().table), warehouse: await readWarehouseTotals(stack.warehouse) };
    const { Messages: left = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: 0 }));
    expect(left).toEqual([]);

    // The same things set aside again and replayed a second time: no total moves.
    for (const message of sent) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: message.Body }));
    await stack.clients.s3.send(new PutObjectCommand({ Bucket: names().archive, Key: badKey, Body: fixedRow }));
    await stack.clients.s3.send(new PutObjectCommand({ Bucket: staging, Key: errorKey, Body: errorBody }));
    const second = await replay();
    await settle();
    expect(second.failures.replayed).toBe(3);
    expect(second.badRows.replayed).toBe(1);
    expect({ dynamodb: await readDynamoDbTotals(stack.clients.dynamodb, names().table), warehouse: await readWarehouseTotals(stack.warehouse) }).toEqual(after);
  }, 180_000);
});
