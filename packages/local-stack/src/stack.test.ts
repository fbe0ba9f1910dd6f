import { execFile, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DescribeTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListBucketsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { normaliseInvoice, recordVersion, type Invoice } from '@invoice-pipeline/transactions';
import { EXAMPLE_INVOICE } from '@invoice-pipeline/transactions/files';
import { toWarehouseRow } from '@invoice-pipeline/warehouse';
import { Client } from 'pg';
import { gunzipSync } from 'node:zlib';
import { endpointsFile, type Endpoints } from './endpoints';
import { NOT_EMULATED_FILE } from './stack';
import { startTestStack } from './testing';

const run = promisify(execFile);

const onPath = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
/**
 * The AWS CLI and psql are Debian packages, not npm ones: CI installs them (.ci/run) and must run this test; on a
 * laptop without them it is skipped, loudly.
 */
const cliTools = onPath('aws') && onPath('psql');
if (!cliTools && process.env.CI !== 'true') console.warn('aws and/or psql not installed: skipping the AWS CLI/psql check (apt-get install awscli postgresql-client)');
const itWithCliTools = cliTools || process.env.CI === 'true' ? it : it.skip;

/** The example invoice's first two lines. */
const invoice: Invoice = { ...EXAMPLE_INVOICE, storeId: 'online', lines: EXAMPLE_INVOICE.lines.slice(0, 2) };

describe('the local stack', () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let endpoints: Endpoints;

  beforeAll(async () => {
    stack = await startTestStack();
    endpoints = stack.endpoints;
    // Provisioning resolves each service with `sls print` in dependency order (monitoring and warehouse, then ingest and
    // batch-loader, then the stream processor): a few seconds idle, minutes on a loaded machine.
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
  }, 30_000);

  it('writes endpoints.json with every endpoint and the resources provisioned from the services', async () => {
    const written = JSON.parse(await readFile(endpointsFile(stack.dir), 'utf8')) as Endpoints;
    expect(written).toEqual(endpoints);
    for (const url of [endpoints.kinesis, endpoints.dynamodb, endpoints.s3, endpoints.firehose]) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(endpoints.warehouse.url).toMatch(/^postgres:\/\/.+@127\.0\.0\.1:\d+\//);
    expect(endpoints.outputs.ingest).toMatchObject({ StreamName: 'invoice-ingest-local-invoices', StreamArn: expect.stringContaining(':stream/invoice-ingest-local-invoices') });
    // The read API's attachment to ingest's REST API (API Gateway is not emulated: the ids stay logical ids locally).
    expect(Object.keys(endpoints.outputs.ingest ?? {})).toEqual(expect.arrayContaining(['RestApiId', 'RestApiRootResourceId', 'InvoicesResourceId', 'StoreApiKeys']));
    expect(endpoints.outputs['stream-processor']).toMatchObject({ TableName: 'invoice-stream-processor-local-invoices' });
    expect(Object.keys(endpoints.resources['stream-processor'] ?? {})).toEqual(
      expect.arrayContaining(['InvoiceTable', 'ArchiveBucket', 'RawArchiveDeliveryStream', 'WarehouseDeliveryStream', 'FailureQueue']),
    );
    // The staging location belongs to the warehouse service (both loading paths write to it).
    expect(Object.keys(endpoints.resources.warehouse ?? {})).toEqual(expect.arrayContaining(['StagingBucket']));
    // Queues are on the local SQS; IAM is not emulated.
    expect(stack.provisioned.notEmulated.map((r) => r.type)).toEqual(expect.arrayContaining(['AWS::IAM::Role']));
    expect(stack.provisioned.notEmulated.map((r) => r.type)).not.toContain('AWS::SQS::Queue');
    // The stack runs the warehouse loader itself; serverless-offline's timer for it would call the Redshift Data API.
    const mergeWarehouse = (stack.provisioned.definitions['stream-processor']?.config.functions as Record<string, { events: Array<{ schedule?: { enabled?: boolean } }> }>).mergeWarehouse;
    expect(mergeWarehouse?.events.map((event) => event.schedule?.enabled)).toEqual([false]);
    // The log summarises them by kind; the stack's folder lists each one.
    expect(JSON.parse(await readFile(join(stack.dir, NOT_EMULATED_FILE), 'utf8'))).toEqual(stack.provisioned.notEmulated);
    expect(endpoints.sqs).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('serves the invoice stream on Kinesis', async () => {
    const StreamName = endpoints.outputs.ingest?.StreamName as string;
    const { StreamDescription } = await stack.clients.kinesis.send(new DescribeStreamCommand({ StreamName }));
    expect(StreamDescription?.StreamStatus).toBe('ACTIVE');
    const put = await stack.clients.kinesis.send(new PutRecordCommand({ StreamName, PartitionKey: invoice.invoiceNo, Data: Buffer.from(JSON.stringify(invoice)) }));
    const { ShardIterator } = await stack.clients.kinesis.send(
      new GetShardIteratorCommand({ StreamName, ShardId: put.ShardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: put.SequenceNumber }),
    );
    const { Records = [] } = await stack.clients.kinesis.send(new GetRecordsCommand({ ShardIterator }));
    expect(JSON.parse(Buffer.from(Records[0]?.Data ?? []).toString())).toEqual(invoice);
  });

  it('serves the invoice table on DynamoDB, with its sparse customer index', async () => {
    const TableName = endpoints.outputs['stream-processor']?.TableName as string;
    const { Table } = await stack.clients.dynamodb.send(new DescribeTableCommand({ TableName }));
    expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['byCustomer']);
    await stack.clients.dynamodb.send(new PutItemCommand({ TableName, Item: { pk: { S: 'INVOICE#536365' }, sk: { S: 'HEADER' } } }));
    const { Item } = await stack.clients.dynamodb.send(new GetItemCommand({ TableName, Key: { pk: { S: 'INVOICE#536365' }, sk: { S: 'HEADER' } } }));
    expect(Item?.sk?.S).toBe('HEADER');
  });

  it('serves the buckets on S3, storing bodies byte for byte', async () => {
    const { Buckets = [] } = await stack.clients.s3.send(new ListBucketsCommand({}));
    const bucket = endpoints.resources['stream-processor']?.ArchiveBucket?.name as string;
    expect(Buckets.map((b) => b.Name)).toEqual(expect.arrayContaining([bucket, endpoints.resources['batch-loader']?.DumpsBucket?.name]));
    const body = 'Dotcomgiftshop Gift Voucher £40.00\r\n';
    await stack.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'check/voucher.txt', Body: body }));
    const object = await stack.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'check/voucher.txt' }));
    expect(await object.Body?.transformToString()).toBe(body);
  });

  it('delivers lines through the local Firehose into the warehouse, merged once per (invoice_no, line_no)', async () => {
    const DeliveryStreamName = endpoints.resources['stream-processor']?.WarehouseDeliveryStream?.name as string;
    const records = normaliseInvoice(invoice).map((line) => ({ Data: Buffer.from(`${JSON.stringify(toWarehouseRow(line, recordVersion('1')))}\n`) }));
    for (let delivery = 0; delivery < 2; delivery += 1) {
      const reply = await stack.clients.firehose.send(new PutRecordBatchCommand({ DeliveryStreamName, Records: records }));
      expect(reply.FailedPutCount).toBe(0);
    }
    await stack.firehose.flush();
    await stack.mergeWarehouse();
    const client = new Client({ connectionString: endpoints.warehouse.url });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT invoice_no, line_no, line_total::text FROM invoice_lines WHERE invoice_no = '536365' ORDER BY line_no");
      expect(rows).toEqual([
        { invoice_no: '536365', line_no: 1, line_total: '15.300' },
        { invoice_no: '536365', line_no: 2, line_total: '20.340' },
      ]);
    } finally {
      await client.end();
    }
  });

  it('archives every record of the invoice stream to S3 under a date partition, gzip', async () => {
    await stack.firehose.flush();
    const Bucket = endpoints.resources['stream-processor']?.ArchiveBucket?.name as string;
    const { Contents = [] } = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'raw/' }));
    expect(Contents.length).toBeGreaterThan(0);
    expect(Contents[0]?.Key).toMatch(/^raw\/dt=\d{4}-\d{2}-\d{2}\//);
    const object = await stack.clients.s3.send(new GetObjectCommand({ Bucket, Key: Contents[0]?.Key }));
    const text = gunzipSync(Buffer.from(await (object.Body?.transformToByteArray() ?? Promise.resolve(new Uint8Array())))).toString();
    expect(text).toContain('"invoiceNo":"536365"');
  });

  itWithCliTools('answers the AWS CLI and psql as the README shows', async () => {
    const env = { ...process.env, AWS_ACCESS_KEY_ID: endpoints.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: endpoints.credentials.secretAccessKey, AWS_DEFAULT_REGION: endpoints.region, AWS_PAGER: '' };
    const aws = (...args: string[]) => run('aws', args, { env }).then(({ stdout }) => stdout);
    const stream = JSON.parse(await aws('--endpoint-url', endpoints.kinesis, 'kinesis', 'describe-stream', '--stream-name', endpoints.outputs.ingest?.StreamName as string));
    expect(stream.StreamDescription.StreamStatus).toBe('ACTIVE');
    const table = JSON.parse(await aws('--endpoint-url', endpoints.dynamodb, 'dynamodb', 'describe-table', '--table-name', endpoints.outputs['stream-processor']?.TableName as string));
    expect(table.Table.TableStatus).toBe('ACTIVE');
    expect(await aws('--endpoint-url', endpoints.s3, 's3', 'ls')).toContain(endpoints.resources['stream-processor']?.ArchiveBucket?.name);
    const { stdout } = await run('psql', [endpoints.warehouse.url, '-At', '-c', 'select 1']);
    expect(stdout.trim()).toBe('1');
  }, 60_000);
});
