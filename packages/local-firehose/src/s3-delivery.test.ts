import { PutRecordBatchCommand, PutRecordCommand, type FirehoseClient } from '@aws-sdk/client-firehose';
import { performance } from 'node:perf_hooks';
import { startLocalFirehose, type LocalFirehose, type LocalFirehoseOptions, type S3DestinationProperties } from '.';
import { expectAccounted, firehoseClientFor, startTestS3, waitFor, type TestS3 } from './testing';

const bucket = 'delivery-archive';
let s3: TestS3;
const running: Array<{ firehose: LocalFirehose; client: FirehoseClient }> = [];

beforeAll(async () => {
  s3 = await startTestS3([bucket]);
});
afterEach(async () => {
  for (const { firehose, client } of running.splice(0)) {
    client.destroy();
    await firehose.stop();
  }
});
afterAll(() => s3.stop());

/** A local Firehose with one DirectPut stream `name` delivering to `destination`. */
async function directPut(name: string, destination: Partial<S3DestinationProperties>, options: Partial<LocalFirehoseOptions> = {}) {
  const firehose = await startLocalFirehose({ s3: s3.client, ...options });
  const client = firehoseClientFor(firehose.endpoint);
  running.push({ firehose, client });
  await firehose.createDeliveryStream(name, {
    DeliveryStreamType: 'DirectPut',
    ExtendedS3DestinationConfiguration: { BucketARN: `arn:aws:s3:::${bucket}`, Prefix: `${name}/`, ...destination },
  });
  const put = (...records: Array<string | Buffer>) =>
    client.send(new PutRecordBatchCommand({ DeliveryStreamName: name, Records: records.map((data) => ({ Data: Buffer.from(data) })) }));
  return { firehose, client, put };
}

const quickRetries = (s3DurationInSeconds: number) => ({ retry: { baseDelayMs: 10, maxDelayMs: 40, s3DurationInSeconds } });

describe('buffering', () => {
  it('sends the buffer once it holds SizeInMBs, as one object of the records concatenated as sent', async () => {
    const { firehose, put } = await directPut('by-size', { BufferingHints: { IntervalInSeconds: 900, SizeInMBs: 1 } });
    const records = ['a', 'b', 'c'].map((letter) => letter.repeat(400_000));
    await put(records[0] as string);
    await put(records[1] as string);
    expect(firehose.stats('by-size')).toMatchObject({ buffered: 2, deliveringToS3: 0 });
    expect(await s3.keys(bucket, 'by-size/')).toEqual([]);

    await put(records[2] as string, 'next');
    await waitFor(async () => (await s3.keys(bucket, 'by-size/')).length === 1, 'the size-triggered object');
    const [key] = await s3.keys(bucket, 'by-size/');
    expect((await s3.read(bucket, key as string)).toString()).toBe(records.join(''));
    await waitFor(() => firehose.stats('by-size').delivered === 3, 'delivery');
    // The record after the threshold starts the next buffer.
    expect(firehose.stats('by-size')).toMatchObject({ buffered: 1, objectsDelivered: 1 });
    expectAccounted(firehose.stats('by-size'), false);
  });

  it('sends the buffer when IntervalInSeconds has passed since its first record, without a flush', async () => {
    const { firehose, put } = await directPut('by-interval', { BufferingHints: { IntervalInSeconds: 900, SizeInMBs: 5 } }, { buffering: { intervalInSeconds: 0.3 } });
    const started = performance.now();
    await put('{"a":1}', '{"a":2}');
    await put('{"a":3}');
    expect(await s3.keys(bucket, 'by-interval/')).toEqual([]);
    await waitFor(() => firehose.stats('by-interval').delivered === 3, 'the interval-triggered delivery');
    expect(performance.now() - started).toBeGreaterThanOrEqual(280);
    const keys = await s3.keys(bucket, 'by-interval/');
    expect(keys).toHaveLength(1);
    expect((await s3.read(bucket, keys[0] as string)).toString()).toBe('{"a":1}{"a":2}{"a":3}');
    expectAccounted(firehose.stats('by-interval'));
  });
});

describe('object keys', () => {
  it('writes GZIP objects under timestamp prefixes evaluated in UTC from the arrival time', async () => {
    let clock = new Date('2024-02-29T23:59:58.500Z');
    const { firehose, put } = await directPut(
      'dated',
      { Prefix: 'raw/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/', ErrorOutputPrefix: 'errors/', CompressionFormat: 'GZIP' },
      { now: () => clock },
    );
    await put('first\n', 'second\n');
    clock = new Date('2024-03-01T00:00:03Z');
    // The object takes the arrival time of its oldest record.
    await put('third\n');
    await firehose.flush('dated');
    await put('fourth\n');
    await firehose.flush('dated');

    const keys = await s3.keys(bucket, 'raw/');
    expect(keys).toHaveLength(2);
    const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
    expect(keys[0]).toMatch(new RegExp(`^raw/dt=2024-02-29/hour=23/dated-1-2024-02-29-23-59-58-${uuid}\\.gz$`));
    expect(keys[1]).toMatch(new RegExp(`^raw/dt=2024-03-01/hour=00/dated-1-2024-03-01-00-00-03-${uuid}\\.gz$`));
    expect((await s3.read(bucket, keys[0] as string)).toString()).toBe('first\nsecond\nthird\n');
    expect((await s3.read(bucket, keys[1] as string)).toString()).toBe('fourth\n');
    expectAccounted(firehose.stats('dated'));
  });
});

describe('S3 delivery failures', () => {
  it('retries while the bucket is missing and delivers once it exists', async () => {
    const { firehose, put } = await directPut('late', { BucketARN: 'arn:aws:s3:::late-bucket', Prefix: 'late/' }, quickRetries(30));
    await put('x', 'y');
    const flushed = firehose.flush('late');
    await waitFor(() => firehose.stats('late').retries >= 2, 'retries');
    expect(firehose.stats('late')).toMatchObject({ deliveringToS3: 2, inFlight: 2, delivered: 0, lastError: expect.stringMatching(/NoSuchBucket/) });
    expectAccounted(firehose.stats('late'), false);

    await s3.createBucket('late-bucket');
    await flushed;
    const keys = await s3.keys('late-bucket');
    expect(keys).toHaveLength(1);
    expect((await s3.read('late-bucket', keys[0] as string)).toString()).toBe('xy');
    expect(firehose.stats('late')).toMatchObject({ delivered: 2, failed: 0 });
    expectAccounted(firehose.stats('late'));
  });

  it('past the retry window writes the records to the error output prefix, never dropping them', async () => {
    const { firehose, put } = await directPut(
      'lost',
      {
        BucketARN: 'arn:aws:s3:::lost-bucket',
        Prefix: 'raw/dt=!{timestamp:yyyy-MM-dd}/',
        ErrorOutputPrefix: 'firehose-errors/raw/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/',
      },
      { ...quickRetries(0.2), now: () => new Date('2024-05-01T10:00:00Z') },
    );
    await put('one', 'two', 'three');
    const flushed = firehose.flush('lost');
    // The error output lives in the same (missing) bucket: it is retried until it can be written.
    await waitFor(() => firehose.stats('lost').writingErrorOutput === 3, 'the move to the error output');
    expectAccounted(firehose.stats('lost'), false);

    await s3.createBucket('lost-bucket');
    await flushed;
    expect(await s3.keys('lost-bucket', 'raw/')).toEqual([]);
    const errorKeys = await s3.keys('lost-bucket', 'firehose-errors/');
    expect(errorKeys).toHaveLength(1);
    expect(errorKeys[0]).toMatch(/^firehose-errors\/raw\/s3-failed\/dt=2024-05-01\/lost-1-2024-05-01-10-00-00-/);
    const failures = (await s3.read('lost-bucket', errorKeys[0] as string))
      .toString()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { rawData: string; errorCode: string; attemptsMade: number });
    expect(failures.map((failure) => Buffer.from(failure.rawData, 'base64').toString())).toEqual(['one', 'two', 'three']);
    expect(failures[0]).toMatchObject({ errorCode: 'S3.NoSuchBucket', attemptsMade: expect.any(Number) });
    expect(firehose.stats('lost')).toMatchObject({ delivered: 0, failed: 3 });
    expectAccounted(firehose.stats('lost'));
  });
});

describe('stop', () => {
  it('delivers what is still buffered, then refuses connections', async () => {
    const { firehose, client } = await directPut('stopping', { BufferingHints: { IntervalInSeconds: 900, SizeInMBs: 128 } });
    await client.send(new PutRecordCommand({ DeliveryStreamName: 'stopping', Record: { Data: Buffer.from('last words') } }));
    running.splice(0);
    client.destroy();
    const report = await firehose.stop();
    expect(report.inFlight).toBe(0);
    expect(report.stats.stopping).toMatchObject({ recordsIn: 1, delivered: 1 });
    const [key] = await s3.keys(bucket, 'stopping/');
    expect((await s3.read(bucket, key as string)).toString()).toBe('last words');
    await expect(fetch(firehose.endpoint, { method: 'POST' })).rejects.toThrow();
  });

  it('waits a bounded time for failing deliveries and reports what is left in flight', async () => {
    const { firehose, client, put } = await directPut('stuck', { BucketARN: 'arn:aws:s3:::never-bucket' }, { ...quickRetries(3600), stopTimeoutMs: 200 });
    await put('a', 'b');
    running.splice(0);
    client.destroy();
    const started = performance.now();
    const report = await firehose.stop();
    expect(performance.now() - started).toBeLessThan(2000);
    expect(report.inFlight).toBe(2);
    expect(report.stats.stuck).toMatchObject({ recordsIn: 2, deliveringToS3: 2, delivered: 0, failed: 0 });
  });
});
