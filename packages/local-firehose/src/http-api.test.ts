import {
  CreateDeliveryStreamCommand,
  DeleteDeliveryStreamCommand,
  DescribeDeliveryStreamCommand,
  ListDeliveryStreamsCommand,
  PutRecordBatchCommand,
  PutRecordCommand,
  type FirehoseClient,
  type _Record,
} from '@aws-sdk/client-firehose';
import { startLocalFirehose, type LocalFirehose } from '.';
import { expectAccounted, firehoseClientFor, startTestS3, type TestS3 } from './testing';

const bucket = 'api-archive';
const destination = {
  BucketARN: `arn:aws:s3:::${bucket}`,
  RoleARN: 'arn:aws:iam::000000000000:role/firehose',
  // Nothing leaves the buffer unless a test flushes.
  BufferingHints: { IntervalInSeconds: 900, SizeInMBs: 128 },
};

let s3: TestS3;
let firehose: LocalFirehose;
let client: FirehoseClient;
/** Each test delivers under its own prefix of the shared bucket. */
let prefix = '';
let testNumber = 0;

beforeAll(async () => {
  s3 = await startTestS3([bucket]);
});
afterAll(() => s3.stop());

beforeEach(async () => {
  firehose = await startLocalFirehose({ s3: s3.client });
  client = firehoseClientFor(firehose.endpoint);
  prefix = `orders-${++testNumber}/`;
  await firehose.createDeliveryStream('orders', { DeliveryStreamType: 'DirectPut', ExtendedS3DestinationConfiguration: { ...destination, Prefix: prefix } });
});
afterEach(async () => {
  client.destroy();
  await firehose.stop();
});

describe('PutRecordBatch', () => {
  it('answers injected failures per record with FailedPutCount, and a resending client gets every record delivered once', async () => {
    const lines = Array.from({ length: 10 }, (_, n) => `{"n":${n}}\n`);
    firehose.injectPutFailures('orders', { match: ({ index }) => index % 3 === 1, times: 4 });

    let pending: _Record[] = lines.map((line) => ({ Data: Buffer.from(line) }));
    const failedPerCall: number[] = [];
    while (pending.length > 0 && failedPerCall.length < 5) {
      const reply = await client.send(new PutRecordBatchCommand({ DeliveryStreamName: 'orders', Records: pending }));
      const responses = reply.RequestResponses ?? [];
      expect(responses).toHaveLength(pending.length);
      for (const response of responses) {
        if (response.ErrorCode) {
          expect(response).toEqual({ ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' });
        } else {
          expect(response.RecordId).toEqual(expect.any(String));
        }
      }
      failedPerCall.push(reply.FailedPutCount ?? -1);
      pending = pending.filter((_, index) => responses[index]?.ErrorCode);
    }
    // Indexes 1, 4, 7 fail first; the rule's fourth failure hits index 1 of the resent three.
    expect(failedPerCall).toEqual([3, 1, 0]);
    expect(firehose.stats('orders')).toMatchObject({ recordsIn: 10, recordsRejected: 4, buffered: 10 });

    await firehose.flush('orders');
    const keys = await s3.keys(bucket, prefix);
    expect(keys).toHaveLength(1);
    expect(keys[0]?.slice(prefix.length)).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\d{2}\/orders-1-\d{4}(-\d{2}){5}-[0-9a-f-]{36}$/);
    const delivered = (await s3.read(bucket, keys[0] as string)).toString('utf8');
    expect(delivered.split(/(?<=\n)/).sort()).toEqual([...lines].sort());
    const stats = firehose.stats('orders');
    expect(stats).toMatchObject({ delivered: 10, deliveredToS3: 10, failed: 0, objectsDelivered: 1 });
    expectAccounted(stats);
  });

  it('enforces 500 records and 4 MiB per call and 1,000 KiB per record, accepting nothing from a refused call', async () => {
    const put = (records: _Record[]) => client.send(new PutRecordBatchCommand({ DeliveryStreamName: 'orders', Records: records }));
    const tooMany = Array.from({ length: 501 }, () => ({ Data: Buffer.from('x') }));
    await expect(put(tooMany)).rejects.toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    await expect(put([{ Data: Buffer.alloc(1_024_001, 1) }])).rejects.toMatchObject({ name: 'ValidationException' });
    const fiveMegabytes = Array.from({ length: 5 }, () => ({ Data: Buffer.alloc(1_000_000, 2) }));
    await expect(put(fiveMegabytes)).rejects.toMatchObject({ name: 'InvalidArgumentException', message: expect.stringMatching(/4 MiB/) });

    const atTheLimit = await put([{ Data: Buffer.alloc(1_024_000, 3) }]);
    expect(atTheLimit.FailedPutCount).toBe(0);
    expect(firehose.stats('orders')).toMatchObject({ recordsIn: 1, bytesIn: 1_024_000 });
  });
});

describe('PutRecord', () => {
  it('fails the whole call with ServiceUnavailableException (503, which SDKs retry) when a failure is injected', async () => {
    firehose.injectPutFailures('orders', { times: 1 });
    await expect(client.send(new PutRecordCommand({ DeliveryStreamName: 'orders', Record: { Data: Buffer.from('a') } }))).rejects.toMatchObject({
      name: 'ServiceUnavailableException',
      $metadata: { httpStatusCode: 503 },
    });
    const reply = await client.send(new PutRecordCommand({ DeliveryStreamName: 'orders', Record: { Data: Buffer.from('a') } }));
    expect(reply).toMatchObject({ RecordId: expect.any(String), Encrypted: false });
    expect(firehose.stats('orders')).toMatchObject({ recordsIn: 1, recordsRejected: 1 });
  });
});

describe('control plane', () => {
  it('creates, lists, describes and deletes delivery streams, delivering what a deleted stream held', async () => {
    const created = await client.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'clicks',
        DeliveryStreamType: 'DirectPut',
        DeliveryStreamEncryptionConfigurationInput: { KeyType: 'AWS_OWNED_CMK' },
        ExtendedS3DestinationConfiguration: { ...destination, Prefix: 'clicks/', CompressionFormat: 'GZIP' },
        Tags: [{ Key: 'team', Value: 'data' }],
      }),
    );
    expect(created.DeliveryStreamARN).toBe('arn:aws:firehose:us-east-1:000000000000:deliverystream/clicks');
    await expect(client.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: 'clicks', ExtendedS3DestinationConfiguration: destination }))).rejects.toMatchObject({
      name: 'ResourceInUseException',
    });

    const firstPage = await client.send(new ListDeliveryStreamsCommand({ Limit: 1 }));
    expect(firstPage).toMatchObject({ DeliveryStreamNames: ['clicks'], HasMoreDeliveryStreams: true });
    const secondPage = await client.send(new ListDeliveryStreamsCommand({ ExclusiveStartDeliveryStreamName: 'clicks' }));
    expect(secondPage).toMatchObject({ DeliveryStreamNames: ['orders'], HasMoreDeliveryStreams: false });

    const { DeliveryStreamDescription: description } = await client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'clicks' }));
    expect(description).toMatchObject({
      DeliveryStreamName: 'clicks',
      DeliveryStreamStatus: 'ACTIVE',
      DeliveryStreamType: 'DirectPut',
      DeliveryStreamEncryptionConfiguration: { KeyType: 'AWS_OWNED_CMK', Status: 'ENABLED' },
      Destinations: [
        {
          DestinationId: 'destinationId-000000000001',
          ExtendedS3DestinationDescription: { BucketARN: destination.BucketARN, Prefix: 'clicks/', CompressionFormat: 'GZIP', BufferingHints: { IntervalInSeconds: 900, SizeInMBs: 128 } },
        },
      ],
    });
    expect(description?.CreateTimestamp).toBeInstanceOf(Date);

    const put = await client.send(new PutRecordCommand({ DeliveryStreamName: 'clicks', Record: { Data: Buffer.from('kept') } }));
    expect(put.Encrypted).toBe(true);
    await client.send(new DeleteDeliveryStreamCommand({ DeliveryStreamName: 'clicks' }));
    await expect(client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'clicks' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(client.send(new PutRecordCommand({ DeliveryStreamName: 'clicks', Record: { Data: Buffer.from('late') } }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });

    await firehose.flush();
    const [key] = await s3.keys(bucket, 'clicks/');
    expect(key).toMatch(/\.gz$/);
    expect((await s3.read(bucket, key as string)).toString()).toBe('kept');
    expectAccounted(firehose.stats('clicks'));
  });

  it('refuses definitions it cannot honour with InvalidArgumentException', async () => {
    await expect(
      client.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: 'bad', ExtendedS3DestinationConfiguration: { ...destination, Prefix: 'dt=!{timestamp:yyyy}/' } })),
    ).rejects.toMatchObject({ name: 'InvalidArgumentException', message: expect.stringMatching(/ErrorOutputPrefix/) });
    // The warehouse is loaded from S3 by the project's own loader, so a Redshift destination is refused, not half-emulated.
    await expect(firehose.createDeliveryStream('warehouse', { RedshiftDestinationConfiguration: {
      CopyCommand: { DataTableName: 't', DataTableColumns: 'a', CopyOptions: "JSON 'auto'" },
      S3Configuration: destination,
    } })).rejects.toMatchObject({ name: 'InvalidArgumentException', message: 'RedshiftDestinationConfiguration is not emulated by the local Firehose.' });
  });
});

describe('the wire format of the AWS CLI', () => {
  // What `aws firehose put-record --endpoint-url … --delivery-stream-name orders --record Data=…` sends (CLI v1, botocore).
  const cliRequest = (operation: string, body: object) =>
    fetch(firehose.endpoint, {
      method: 'POST',
      headers: {
        'X-Amz-Target': `Firehose_20150804.${operation}`,
        'Content-Type': 'application/x-amz-json-1.1',
        'User-Agent': 'aws-cli/1.45.0 md/Botocore#1.40.0 ua/2.1 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.2 md/pyimpl#CPython cfg/retry-mode#legacy botocore/1.40.0',
        'X-Amz-Date': '20240229T230509Z',
        Authorization:
          'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240229/us-east-1/firehose/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=deadbeef',
      },
      body: JSON.stringify(body),
    });

  it('takes base64 Data and answers in JSON 1.1 with epoch-second timestamps', async () => {
    const put = await cliRequest('PutRecord', { DeliveryStreamName: 'orders', Record: { Data: Buffer.from('{"via":"cli"}\n').toString('base64') } });
    expect(put.status).toBe(200);
    expect(put.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(put.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await put.json()).toEqual({ RecordId: expect.any(String), Encrypted: false });

    const batch = await cliRequest('PutRecordBatch', { DeliveryStreamName: 'orders', Records: [{ Data: 'YQ==' }, { Data: 'Yg==' }] });
    expect(await batch.json()).toEqual({ FailedPutCount: 0, Encrypted: false, RequestResponses: [{ RecordId: expect.any(String) }, { RecordId: expect.any(String) }] });

    const describe = await cliRequest('DescribeDeliveryStream', { DeliveryStreamName: 'orders' });
    const { DeliveryStreamDescription: description } = (await describe.json()) as { DeliveryStreamDescription: Record<string, unknown> };
    expect(description.CreateTimestamp).toEqual(expect.any(Number));
    expect(Math.abs((description.CreateTimestamp as number) - Date.now() / 1000)).toBeLessThan(60);

    await firehose.flush('orders');
    const [key] = await s3.keys(bucket, prefix);
    expect((await s3.read(bucket, key as string)).toString()).toBe('{"via":"cli"}\nab');
  });

  it('answers errors as { __type, message } with status 400', async () => {
    const missing = await cliRequest('DescribeDeliveryStream', { DeliveryStreamName: 'missing' });
    expect(missing.status).toBe(400);
    expect(missing.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    expect(await missing.json()).toEqual({ __type: 'ResourceNotFoundException', message: 'Firehose missing under account 000000000000 not found.' });

    const noName = await cliRequest('PutRecord', { Record: { Data: 'YQ==' } });
    expect(await noName.json()).toEqual({ __type: 'ValidationException', message: expect.stringMatching(/deliveryStreamName.*must not be null/) });
    const unknown = await cliRequest('StartDeliveryStreamEncryption', { DeliveryStreamName: 'orders' });
    expect([unknown.status, ((await unknown.json()) as { __type: string }).__type]).toEqual([400, 'UnknownOperationException']);
    const badBase64 = await cliRequest('PutRecord', { DeliveryStreamName: 'orders', Record: { Data: 'not base64!' } });
    expect(((await badBase64.json()) as { __type: string }).__type).toBe('SerializationException');
    expect(firehose.stats('orders').recordsIn).toBe(0);
  });

  it.each([
    ['YWJj', true],
    ['YWI=', true],
    ['YQ==', true],
    ['+/9z', true],
    ['YQ=', false],
    ['Y===', false],
    ['====', false],
    ['YQ==YWJj', false],
    ['ab=c', false],
    ['YWJj\n', false],
    ['YW-j', false],
    ['YW_j', false],
  ])('Data %j is taken as base64: %s', async (data, valid) => {
    const reply = await cliRequest('PutRecord', { DeliveryStreamName: 'orders', Record: { Data: data } });
    if (valid) expect(reply.status).toBe(200);
    else expect([reply.status, ((await reply.json()) as { __type: string }).__type]).toEqual([400, 'SerializationException']);
  });
});
