import { PutRecordCommand as FirehosePutRecordCommand } from '@aws-sdk/client-firehose';
import { ListShardsCommand, PutRecordsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { startLocalFirehose, type DeliveryStreamProperties, type LocalFirehose, type LocalFirehoseOptions } from '.';
import { expectAccounted, firehoseClientFor, startTestKinesis, startTestS3, waitFor, type TestKinesis, type TestS3 } from './testing';

const bucket = 'kinesis-archive';
let s3: TestS3;
let kinesis: TestKinesis;
const running: LocalFirehose[] = [];

beforeAll(async () => {
  [s3, kinesis] = await Promise.all([startTestS3([bucket]), startTestKinesis()]);
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((firehose) => firehose.stop()));
});
afterAll(async () => {
  await Promise.all([s3.stop(), kinesis.stop()]);
});

/** The raw archive delivery stream of services/stream-processor/serverless.yml, reading `streamArn`. */
function rawArchive(streamArn: string, prefix: string): DeliveryStreamProperties {
  return {
    DeliveryStreamType: 'KinesisStreamAsSource',
    KinesisStreamSourceConfiguration: { KinesisStreamARN: streamArn, RoleARN: 'arn:aws:iam::000000000000:role/firehose' },
    ExtendedS3DestinationConfiguration: {
      BucketARN: `arn:aws:s3:::${bucket}`,
      RoleARN: 'arn:aws:iam::000000000000:role/firehose',
      Prefix: `${prefix}/dt=!{timestamp:yyyy-MM-dd}/`,
      ErrorOutputPrefix: `firehose-errors/${prefix}/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/`,
      CompressionFormat: 'GZIP',
      BufferingHints: { IntervalInSeconds: 60, SizeInMBs: 5 },
    },
  };
}

async function start(options: Partial<LocalFirehoseOptions> = {}): Promise<LocalFirehose> {
  const firehose = await startLocalFirehose({ s3: s3.client, kinesis: kinesis.client, kinesisSource: { pollIntervalMs: 50 }, ...options });
  running.push(firehose);
  return firehose;
}

/** Puts `lines` with varied partition keys; resolves to the shards that took them. */
async function putLines(streamName: string, lines: readonly string[]): Promise<Set<string>> {
  const shards = new Set<string>();
  for (let from = 0; from < lines.length; from += 100) {
    const batch = lines.slice(from, from + 100);
    const reply = await kinesis.client.send(
      new PutRecordsCommand({ StreamName: streamName, Records: batch.map((line, index) => ({ Data: Buffer.from(line), PartitionKey: `invoice-${from + index}` })) }),
    );
    expect(reply.FailedRecordCount).toBe(0);
    for (const entry of reply.Records ?? []) if (entry.ShardId) shards.add(entry.ShardId);
  }
  return shards;
}

/** Every line delivered under `prefix`, all objects read (gunzipped) and split. */
async function deliveredLines(prefix: string): Promise<string[]> {
  const objects = await Promise.all((await s3.keys(bucket, `${prefix}/`)).map((key) => s3.read(bucket, key)));
  return Buffer.concat(objects).toString('utf8').split(/(?<=\n)/).filter(Boolean);
}

const linesFor = (label: string, count: number) => Array.from({ length: count }, (_, n) => `{"stream":"${label}","n":${n}}\n`);

describe('a Kinesis stream as source', () => {
  it('delivers every record of every shard to S3, gzipped under dt= partitions', async () => {
    const streamArn = await kinesis.createStream('invoices', 3);
    const firehose = await start();
    await firehose.createDeliveryStream('raw-archive', rawArchive(streamArn, 'raw'));

    const lines = linesFor('invoices', 300);
    expect((await putLines('invoices', lines)).size).toBeGreaterThan(1);
    await firehose.flush('raw-archive');

    const keys = await s3.keys(bucket, 'raw/');
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key).toMatch(/^raw\/dt=\d{4}-\d{2}-\d{2}\/raw-archive-1-.*\.gz$/);
    expect((await deliveredLines('raw')).sort()).toEqual([...lines].sort());
    expect(firehose.stats('raw-archive')).toMatchObject({ recordsIn: 300, delivered: 300 });
    expectAccounted(firehose.stats('raw-archive'));
  });

  it('keeps polling on its own and delivers at the buffer interval without a flush', async () => {
    const streamArn = await kinesis.createStream('polled', 2);
    const firehose = await start({ buffering: { intervalInSeconds: 0.2 } });
    await firehose.createDeliveryStream('polled-archive', rawArchive(streamArn, 'polled'));
    const early = linesFor('early', 20);
    await putLines('polled', early);
    await waitFor(() => firehose.stats('polled-archive').delivered === 20, 'the first records');
    const late = linesFor('late', 20);
    await putLines('polled', late);
    await waitFor(() => firehose.stats('polled-archive').delivered === 40, 'the records put later');
    expect((await deliveredLines('polled')).sort()).toEqual([...early, ...late].sort());
    expectAccounted(firehose.stats('polled-archive'));
  });

  it('starts at LATEST by default, or at TRIM_HORIZON when asked', async () => {
    const streamArn = await kinesis.createStream('history', 1);
    const before = linesFor('before', 5);
    await putLines('history', before);
    const fromLatest = await start();
    const fromTrimHorizon = await start({ kinesisSource: { pollIntervalMs: 50, startingPosition: 'TRIM_HORIZON' } });
    await fromLatest.createDeliveryStream('latest', rawArchive(streamArn, 'latest'));
    await fromTrimHorizon.createDeliveryStream('trim-horizon', rawArchive(streamArn, 'trim-horizon'));
    const after = linesFor('after', 5);
    await putLines('history', after);
    await Promise.all([fromLatest.flush(), fromTrimHorizon.flush()]);

    expect((await deliveredLines('latest')).sort()).toEqual(after);
    expect((await deliveredLines('trim-horizon')).sort()).toEqual([...after, ...before].sort());
  });

  it('follows a shard split: the closed parent is read to its end and the children from their start', async () => {
    const streamArn = await kinesis.createStream('resharded', 1);
    const firehose = await start();
    await firehose.createDeliveryStream('resharded-archive', rawArchive(streamArn, 'resharded'));
    const beforeSplit = linesFor('parent', 30);
    await putLines('resharded', beforeSplit);

    const { Shards: [parent] = [] } = await kinesis.client.send(new ListShardsCommand({ StreamName: 'resharded' }));
    await kinesis.client.send(new SplitShardCommand({ StreamName: 'resharded', ShardToSplit: parent?.ShardId, NewStartingHashKey: (2n ** 127n).toString() }));
    await waitFor(async () => ((await kinesis.client.send(new ListShardsCommand({ StreamName: 'resharded' }))).Shards ?? []).length === 3, 'the split');
    const afterSplit = linesFor('children', 60);
    expect((await putLines('resharded', afterSplit)).size).toBe(2);

    await firehose.flush('resharded-archive');
    expect((await deliveredLines('resharded')).sort()).toEqual([...beforeSplit, ...afterSplit].sort());
    expectAccounted(firehose.stats('resharded-archive'));
  });

  it('takes a new iterator after the last record read when its iterator expired (five minutes without a poll)', async () => {
    const streamArn = await kinesis.createStream('paused', 1);
    // Long enough that only flush() polls.
    const firehose = await start({ kinesisSource: { pollIntervalMs: 600_000 } });
    await firehose.createDeliveryStream('paused-archive', rawArchive(streamArn, 'paused'));
    const before = linesFor('before-pause', 5);
    await putLines('paused', before);
    await firehose.flush('paused-archive');

    // kinesalite runs in this process: moving Date.now past the iterator's lifetime expires it.
    const realNow = Date.now.bind(Date);
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 6 * 60_000);
    try {
      const after = linesFor('after-pause', 5);
      await putLines('paused', after);
      await firehose.flush('paused-archive');
      expect((await deliveredLines('paused')).sort()).toEqual([...after, ...before].sort());
      expect(firehose.stats('paused-archive')).toMatchObject({ recordsIn: 10, delivered: 10 });
    } finally {
      clock.mockRestore();
    }
  });

  it('refuses PutRecord on a KinesisStreamAsSource stream and a source stream that does not exist', async () => {
    const streamArn = await kinesis.createStream('guarded', 1);
    const firehose = await start();
    await firehose.createDeliveryStream('guarded-archive', rawArchive(streamArn, 'guarded'));
    const client = firehoseClientFor(firehose.endpoint);
    try {
      await expect(client.send(new FirehosePutRecordCommand({ DeliveryStreamName: 'guarded-archive', Record: { Data: Buffer.from('x') } }))).rejects.toMatchObject({
        name: 'InvalidArgumentException',
        message: 'This operation is not permitted on KinesisStreamAsSource delivery stream type.',
      });
    } finally {
      client.destroy();
    }
    await expect(firehose.createDeliveryStream('orphan', rawArchive('arn:aws:kinesis:us-east-1:000000000000:stream/absent', 'orphan'))).rejects.toMatchObject({
      name: 'InvalidArgumentException',
      message: expect.stringMatching(/stream\/absent/),
    });
  });
});
