import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalFirehose, type DeliveryStreamProperties, type LocalFirehose, type LocalFirehoseOptions } from '.';
import { firehoseClientFor, startTestKinesis, startTestS3, type TestKinesis, type TestS3 } from './testing';

/**
 * The local Firehose is no kinder than AWS across a crash or a stop (issue 8, item 9): an acknowledged record is on
 * disk before the answer and is delivered after a restart; a Kinesis source resumes after the last record it handed
 * over, not at LATEST; stop() delivers what its last poll reads.
 */
const bucket = 'durable';
let s3: TestS3;
let kinesis: TestKinesis;
let dataDir: string;
const running: LocalFirehose[] = [];

beforeAll(async () => {
  [s3, kinesis] = await Promise.all([startTestS3([bucket]), startTestKinesis()]);
});
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'firehose-journal-'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((firehose) => firehose.stop()));
  await rm(dataDir, { recursive: true, force: true });
});
afterAll(async () => {
  await Promise.all([s3.stop(), kinesis.stop()]);
});

async function start(options: Partial<LocalFirehoseOptions> = {}): Promise<LocalFirehose> {
  const firehose = await startLocalFirehose({ s3: s3.client, kinesis: kinesis.client, dataDir, ...options });
  running.push(firehose);
  return firehose;
}
const destination = (prefix: string) => ({
  BucketARN: `arn:aws:s3:::${bucket}`,
  RoleARN: 'arn:aws:iam::000000000000:role/firehose',
  Prefix: `${prefix}/`,
  CompressionFormat: 'GZIP',
  // Nothing is sent before a flush: whatever is acknowledged sits in the buffer when the emulator dies.
  BufferingHints: { IntervalInSeconds: 900, SizeInMBs: 128 },
});
const fromKinesis = (streamArn: string, prefix: string): DeliveryStreamProperties => ({
  DeliveryStreamType: 'KinesisStreamAsSource',
  KinesisStreamSourceConfiguration: { KinesisStreamARN: streamArn, RoleARN: 'arn:aws:iam::000000000000:role/firehose' },
  ExtendedS3DestinationConfiguration: destination(prefix),
});
const lines = (label: string, count: number) => Array.from({ length: count }, (_, n) => `{"${label}":${n}}\n`);
async function delivered(prefix: string): Promise<string[]> {
  const objects = await Promise.all((await s3.keys(bucket, `${prefix}/`)).map((key) => s3.read(bucket, key)));
  return Buffer.concat(objects).toString('utf8').split(/(?<=\n)/).filter(Boolean).sort();
}
async function putOnStream(stream: string, data: readonly string[]) {
  const reply = await kinesis.client.send(new PutRecordsCommand({ StreamName: stream, Records: data.map((line, i) => ({ Data: Buffer.from(line), PartitionKey: `k${i}` })) }));
  expect(reply.FailedRecordCount).toBe(0);
}

describe('the local Firehose across a crash, a restart and a stop', () => {
  it('acknowledges PutRecordBatch only once the records are on disk: a crash before delivery loses none', async () => {
    const first = await start();
    await first.createDeliveryStream('direct', { DeliveryStreamType: 'DirectPut', ExtendedS3DestinationConfiguration: destination('direct') });
    const sent = lines('direct', 40);
    const client = firehoseClientFor(first.endpoint);
    const reply = await client.send(new PutRecordBatchCommand({ DeliveryStreamName: 'direct', Records: sent.map((line) => ({ Data: Buffer.from(line) })) }));
    client.destroy();
    expect(reply.FailedPutCount).toBe(0);
    await first.kill();
    expect(await delivered('direct')).toEqual([]);

    const second = await start();
    await second.createDeliveryStream('direct', { DeliveryStreamType: 'DirectPut', ExtendedS3DestinationConfiguration: destination('direct') });
    await second.flush('direct');
    expect(await delivered('direct')).toEqual([...sent].sort());
    // Settled records leave the journal: a third start delivers nothing twice.
    await second.stop();
    const third = await start();
    await third.createDeliveryStream('direct', { DeliveryStreamType: 'DirectPut', ExtendedS3DestinationConfiguration: destination('direct') });
    await third.flush('direct');
    expect(await delivered('direct')).toEqual([...sent].sort());
  });

  it('resumes its Kinesis source after the last record it handed over, not at LATEST, after a restart', async () => {
    const streamArn = await kinesis.createStream('resume', 2);
    const first = await start({ kinesisSource: { pollIntervalMs: 50 } });
    await first.createDeliveryStream('archive', fromKinesis(streamArn, 'resume'));
    const before = lines('before', 30);
    await putOnStream('resume', before);
    await first.flush('archive');
    await first.stop();

    const whileDown = lines('down', 25);
    await putOnStream('resume', whileDown);
    const second = await start({ kinesisSource: { pollIntervalMs: 50 } });
    await second.createDeliveryStream('archive', fromKinesis(streamArn, 'resume'));
    await second.flush('archive');
    expect(await delivered('resume')).toEqual([...before, ...whileDown].sort());
  });

  it('stop() reads its sources to their tips and delivers that last poll', async () => {
    const streamArn = await kinesis.createStream('last-poll', 1);
    // No poll of its own before stop: only stop's last poll can read these records.
    const firehose = await start({ kinesisSource: { pollIntervalMs: 600_000 } });
    await firehose.createDeliveryStream('archive', fromKinesis(streamArn, 'last-poll'));
    const sent = lines('last', 20);
    await putOnStream('last-poll', sent);
    const report = await firehose.stop();
    expect(report.inFlight).toBe(0);
    expect(await delivered('last-poll')).toEqual([...sent].sort());
  });
});
