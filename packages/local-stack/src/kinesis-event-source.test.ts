import { GetRecordsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { byPartitionKey, startKinesisEventSource, type FailedBatch, type KinesisEventRecord } from './kinesis-event-source';
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
  /** Waits until every record put so far is processed, then stops the source (also when draining fails). */
  async function drainThenStop(source: { drain(stallMs?: number): Promise<void>; stop(): Promise<void> }): Promise<void> {
    try {
      await source.drain(30_000);
    } finally {
      await source.stop();
    }
  }

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
    await drainThenStop(source);
    // Lambda sends metadata only: the poison record's position, never its data.
    expect(failed).toHaveLength(1);
    const info = failed[0]?.KinesisBatchInfo;
    expect(failed[0]).toMatchObject({ version: '1.0', requestContext: { condition: 'RetryAttemptsExhausted' }, responseContext: { functionError: 'Unhandled: poison' } });
    expect(info).toMatchObject({ shardId: 'shardId-000000000000', batchSize: 1, streamArn: 'arn:aws:kinesis:eu-west-2:000000000000:stream/events' });
    expect(info?.startSequenceNumber).toBe(info?.endSequenceNumber);
    expect(JSON.stringify(failed)).not.toContain(Buffer.from('record-11').toString('base64'));
    const poison = await kinesis.readAll(streamName);
    expect(poison.find((r) => r.sequenceNumber === info?.startSequenceNumber)?.data).toBe('record-11');
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
    await drainThenStop(source);
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

  it('gives up records older than maximumRecordAgeInSeconds to the on-failure destination, never silently, and delivers the rest', async () => {
    const failed: FailedBatch[] = [];
    const processed: string[] = [];
    let failing = true;
    const aged = 'aged';
    await kinesis.createStream(aged, 1);
    const put = (data: string[]) => kinesis.client.send(new PutRecordsCommand({ StreamName: aged, Records: data.map((d) => ({ Data: Buffer.from(d), PartitionKey: 'one-shard' })) }));
    expect((await put(Array.from({ length: 20 }, (_, i) => `old-${i}`))).FailedRecordCount).toBe(0);
    const source = await startKinesisEventSource({
      kinesis: kinesis.client,
      streamName: aged,
      streamArn: 'arn',
      region: 'eu-west-2',
      batchSize: 20,
      maximumRetryAttempts: 10_000,
      maximumRecordAgeInSeconds: 1,
      async invoke({ Records }) {
        // Every record of the stream is older than 1 s by the first retry: the function never sees them again.
        if (failing) return { functionError: 'Unhandled: sink down' };
        processed.push(...Records.map(text));
        return {};
      },
      onFailure: async (batch) => void failed.push(batch),
    });
    try {
      await source.drain(30_000);
      failing = false;
      expect((await put(['fresh'])).FailedRecordCount).toBe(0);
      await source.drain(30_000);
    } finally {
      await source.stop();
    }
    expect(failed.map((batch) => batch.requestContext.condition)).toEqual(['RecordAgeExceeded']);
    expect(failed[0]?.KinesisBatchInfo.batchSize).toBe(20);
    expect(processed).toEqual(['fresh']);
    expect(source.stats()).toMatchObject({ recordsSentToOnFailure: 20, recordsExpired: 20, recordsDelivered: 1, inFlight: 0 });
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
    await drainThenStop(source);
    expect(deliveries).toEqual([
      Array.from({ length: 20 }, (_, i) => `record-${i}`),
      Array.from({ length: 5 }, (_, i) => `record-${i + 15}`),
    ]);
  }, 60_000);
  it('reads the next batch while the function runs, and still delivers the batches in order, one at a time', async () => {
    const reads: number[] = [];
    const client = kinesis.client;
    // Counts the poller's GetRecords calls made before each invocation.
    let getRecords = 0;
    const send = ((command: unknown) => {
      if (command instanceof GetRecordsCommand) getRecords += 1;
      return client.send(command as never);
    }) as typeof client.send;
    const counting = { send } as typeof client;
    const deliveries: string[][] = [];
    let running = 0;
    const source = await startKinesisEventSource({
      kinesis: counting,
      streamName,
      streamArn: 'arn',
      region: 'eu-west-2',
      batchSize: 8,
      async invoke({ Records }) {
        running += 1;
        expect(running).toBe(1);
        reads.push(getRecords);
        deliveries.push(Records.map(text));
        await new Promise((resolve) => setTimeout(resolve, 50));
        running -= 1;
        return {};
      },
      onFailure: async () => undefined,
    });
    await drainThenStop(source);
    expect(deliveries.flat()).toEqual(Array.from({ length: 20 }, (_, i) => `record-${i}`));
    expect(deliveries.map((batch) => batch.length)).toEqual([8, 8, 4]);
    // While batch n runs, batch n + 1 has been asked for already.
    expect(reads).toEqual([2, 3, 4]);
  }, 60_000);

  it('drains from what its pollers read: a record put just before drain is processed when it resolves, and drain reads nothing itself', async () => {
    await kinesis.createStream('tip', 2);
    const client = kinesis.client;
    const reads: Array<number | undefined> = [];
    const send = ((command: unknown) => {
      if (command instanceof GetRecordsCommand) reads.push(command.input.Limit);
      return client.send(command as never);
    }) as typeof client.send;
    const delivered: string[] = [];
    const source = await startKinesisEventSource({
      kinesis: { send } as typeof client,
      streamName: 'tip',
      streamArn: 'arn',
      region: 'eu-west-2',
      batchSize: 5,
      // Pollers that found the shards empty sleep long before reading again: drain must not take their old empty
      // answers for the state of the stream after the put below.
      pollIntervalMs: 1_000,
      async invoke({ Records }) {
        delivered.push(...Records.map(text));
        return {};
      },
      onFailure: async () => undefined,
    });
    try {
      await source.drain(30_000);
      expect(delivered).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 100)); // both pollers asleep after an empty read
      await client.send(new PutRecordsCommand({ StreamName: 'tip', Records: Array.from({ length: 12 }, (_, i) => ({ Data: Buffer.from(`tip-${i}`), PartitionKey: `key-${i}` })) }));
      await source.drain(30_000);
      expect([...delivered].sort()).toEqual(Array.from({ length: 12 }, (_, i) => `tip-${i}`).sort());
    } finally {
      await source.stop();
    }
    // Only the pollers' reads, of a batch each: none of drain's own.
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((limit) => limit === 5)).toBe(true);
  }, 60_000);

  it('with a parallelization factor, runs that many batches of a shard at once, each key in order, each batch at most batchSize', async () => {
    const name = 'parallel';
    await kinesis.createStream(name, 1);
    // 60 records of 6 keys, ten each, interleaved.
    const records = Array.from({ length: 60 }, (_, i) => ({ Data: Buffer.from(`k${i % 6}-${Math.floor(i / 6)}`), PartitionKey: `k${i % 6}` }));
    await kinesis.client.send(new PutRecordsCommand({ StreamName: name, Records: records }));
    const deliveries: string[][] = [];
    let running = 0;
    let mostAtOnce = 0;
    const source = await startKinesisEventSource({
      kinesis: kinesis.client,
      streamName: name,
      streamArn: 'arn',
      region: 'eu-west-2',
      batchSize: 8,
      parallelizationFactor: 3,
      async invoke({ Records }) {
        running += 1;
        mostAtOnce = Math.max(mostAtOnce, running);
        deliveries.push(Records.map(text));
        await new Promise((resolve) => setTimeout(resolve, 30));
        running -= 1;
        return {};
      },
      onFailure: async () => undefined,
    });
    await drainThenStop(source);
    expect(mostAtOnce).toBeGreaterThan(1);
    expect(mostAtOnce).toBeLessThanOrEqual(3);
    expect(deliveries.every((batch) => batch.length <= 8)).toBe(true);
    expect(deliveries.flat().sort()).toEqual(records.map((record) => record.Data.toString()).sort());
    for (let key = 0; key < 6; key += 1) {
      const ofKey = deliveries.flat().filter((text) => text.startsWith(`k${key}-`));
      expect(ofKey).toEqual(Array.from({ length: 10 }, (_, n) => `k${key}-${n}`));
    }
  }, 60_000);

  it('splits by partition key: the same key always in the same group, every record once, in order', () => {
    const event = (key: string, n: number) => ({ kinesis: { partitionKey: key, data: String(n) } }) as KinesisEventRecord;
    const records = Array.from({ length: 40 }, (_, n) => event(`invoice-${n % 7}`, n));
    expect(byPartitionKey(records, 1)).toEqual([records]);
    const groups = byPartitionKey(records, 4);
    expect(groups.length).toBeLessThanOrEqual(4);
    expect(groups.flat().map((record) => Number(record.kinesis.data)).sort((a, b) => a - b)).toEqual(records.map((_, n) => n));
    for (const group of groups) expect(group).toEqual(records.filter((record) => group.some((other) => other.kinesis.partitionKey === record.kinesis.partitionKey)));
  });
});
