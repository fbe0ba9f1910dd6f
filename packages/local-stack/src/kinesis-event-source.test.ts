import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { startKinesisEventSource, type FailedBatch, type KinesisEventRecord } from './kinesis-event-source';
import { startTestKinesis, type TestKinesis } from '@invoice-pipeline/local-emulators/testing';

describe('the local Kinesis event source mapping', () => {
  let kinesis: TestKinesis;
  const streamName = 'events';

  beforeAll(async () => {
    kinesis = await startTestKinesis();
    await kinesis.createStream(streamName, 1);
    const reply = await kinesis.client.send(
      new PutRecordsCommand({ StreamName: streamName, Records: Array.from({ length: 20 }, (_, i) => ({ Data: Buffer.from(`record-${i}`), PartitionKey: 'one-shard' })) }),
    );
    expect(reply.FailedRecordCount).toBe(0);
  });
  afterAll(() => kinesis.stop());

  const text = (record: KinesisEventRecord) => Buffer.from(record.kinesis.data, 'base64').toString();

  it('isolates a record that always crashes the function by bisection, sends it on-failure, and delivers every other record', async () => {
    const processed: string[] = [];
    const failed: FailedBatch[] = [];
    const source = await startKinesisEventSource({
      kinesis: kinesis.client,
      streamName,
      streamArn: 'arn:aws:kinesis:eu-west-2:000000000000:stream/events',
      region: 'eu-west-2',
      batchSize: 8,
      maximumRetryAttempts: 5,
      bisectBatchOnFunctionError: true,
      async invoke({ Records }) {
        if (Records.some((r) => text(r) === 'record-11')) return { functionError: 'Unhandled: poison' };
        processed.push(...Records.map(text));
        return {};
      },
      onFailure: async (batch) => void failed.push(batch),
    });
    try {
      await source.drain(30_000);
    } finally {
      await source.stop();
    }
    expect(failed.map((batch) => batch.records.map(text))).toEqual([['record-11']]);
    expect(new Set(processed)).toEqual(new Set(Array.from({ length: 20 }, (_, i) => `record-${i}`).filter((r) => r !== 'record-11')));
    expect(source.stats()).toMatchObject({ recordsDelivered: 19, recordsSentToOnFailure: 1, inFlight: 0 });
  }, 60_000);

  it('counts an invoice put on the stream twice (a retried post) as one invoice delivered and two records', async () => {
    await kinesis.createStream('resent', 1);
    const keys = ['536365', '536366', '536365'];
    await kinesis.client.send(new PutRecordsCommand({ StreamName: 'resent', Records: keys.map((key) => ({ Data: Buffer.from(key), PartitionKey: key })) }));
    const source = await startKinesisEventSource({
      kinesis: kinesis.client,
      streamName: 'resent',
      streamArn: 'arn:aws:kinesis:eu-west-2:000000000000:stream/resent',
      region: 'eu-west-2',
      invoke: async () => ({}),
      onFailure: async () => undefined,
    });
    try {
      await source.drain(30_000);
    } finally {
      await source.stop();
    }
    expect(source.stats()).toMatchObject({ recordsDelivered: 3, invoicesDelivered: 2 });
  }, 60_000);

  it('drains a slow function however long it takes, and reports a stall when nothing moves', async () => {
    await kinesis.createStream('slow', 1);
    const put = (n: number) => kinesis.client.send(new PutRecordsCommand({ StreamName: 'slow', Records: Array.from({ length: n }, (_, i) => ({ Data: Buffer.from(`slow-${i}`), PartitionKey: `k${i}` })) }));
    await put(20);
    let hang: (() => void) | undefined;
    let hanging = false;
    const source = await startKinesisEventSource({
      kinesis: kinesis.client,
      streamName: 'slow',
      streamArn: 'arn:aws:kinesis:eu-west-2:000000000000:stream/slow',
      region: 'eu-west-2',
      batchSize: 2,
      async invoke() {
        if (hanging) await new Promise<void>((resolve) => (hang = resolve));
        await new Promise((resolve) => setTimeout(resolve, 250));
        return {};
      },
      onFailure: async () => undefined,
    });
    try {
      const started = Date.now();
      await source.drain(1_000); // 10 batches of 250 ms: longer than the stall limit, never stalled
      expect(Date.now() - started).toBeGreaterThan(1_000);
      hanging = true;
      await put(1);
      await expect(source.drain(1_000)).rejects.toThrow(/stalled: no record processed for 1000 ms/);
    } finally {
      hang?.();
      await source.stop();
    }
  }, 60_000);

  it('resumes from the first reported item failure, so records before it are not delivered twice', async () => {
    const deliveries: string[][] = [];
    let failOnce = true;
    const source = await startKinesisEventSource({
      kinesis: kinesis.client,
      streamName,
      streamArn: 'arn',
      region: 'eu-west-2',
      batchSize: 20,
      reportBatchItemFailures: true,
      async invoke({ Records }) {
        deliveries.push(Records.map(text));
        if (failOnce) {
          failOnce = false;
          return { batchItemFailures: [{ itemIdentifier: Records[15]?.kinesis.sequenceNumber ?? '' }] };
        }
        return { batchItemFailures: [] };
      },
      onFailure: async () => undefined,
    });
    try {
      await source.drain(30_000);
    } finally {
      await source.stop();
    }
    expect(deliveries).toEqual([
      Array.from({ length: 20 }, (_, i) => `record-${i}`),
      Array.from({ length: 5 }, (_, i) => `record-${i + 15}`),
    ]);
  }, 60_000);
});
