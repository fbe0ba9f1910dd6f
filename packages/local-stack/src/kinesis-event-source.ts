import {
  DescribeStreamCommand,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  type _Record as KinesisRecord,
} from '@aws-sdk/client-kinesis';
import { createHash, randomUUID } from 'node:crypto';
import { backoffDelay, sleep } from '@invoice-pipeline/retry';

/**
 * A local Kinesis event source mapping: what Lambda does between a stream and a function, done faithfully enough to
 * test failure handling offline (serverless-offline-kinesis retries a failing batch forever and ignores partial
 * batch responses, so a poison record would block the shard and reported failures would be dropped).
 *
 * Emulated: per-shard polling in order, BatchSize, ReportBatchItemFailures (resume from the first failed sequence
 * number), BisectBatchOnFunctionError, MaximumRetryAttempts, MaximumRecordAgeInSeconds (records older than the limit
 * are not invoked, before a first try or a retry), an on-failure destination that receives what Lambda sends: the
 * invocation record with the batch's metadata (shard, sequence range, arrival times), never the records' data
 * (whoever replays the batch re-reads it from the stream, as in AWS), TRIM_HORIZON or LATEST.
 * Not emulated: MaximumBatchingWindowInSeconds (batches are whatever one GetRecords returns, up to BatchSize),
 * ParallelizationFactor, tumbling windows, enhanced fan-out.
 */

export interface KinesisEventRecord {
  kinesis: {
    kinesisSchemaVersion: '1.0';
    partitionKey: string;
    sequenceNumber: string;
    data: string;
    approximateArrivalTimestamp: number;
  };
  eventSource: 'aws:kinesis';
  eventVersion: '1.0';
  eventID: string;
  eventName: 'aws:kinesis:record';
  invokeIdentityArn: string;
  awsRegion: string;
  eventSourceARN: string;
}

export interface BatchResult {
  /** The function threw (or Lambda reported an unhandled error). */
  functionError?: string;
  batchItemFailures?: Array<{ itemIdentifier: string }>;
}

/** Why Lambda gave a batch up (the `condition` of its invocation record). */
export type FailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

/**
 * What Lambda sends to a Kinesis event source's on-failure destination: metadata of the batch it gave up, no data.
 * The shape of AWS's invocation record (Lambda developer guide, "Retain discarded batch records").
 */
export interface FailedBatch {
  requestContext: { requestId: string; functionArn: string; condition: FailureCondition; approximateInvokeCount: number };
  responseContext: { statusCode: number; executedVersion: string; functionError?: string };
  version: '1.0';
  timestamp: string;
  KinesisBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

export interface EventSourceOptions {
  kinesis: KinesisClient;
  streamName: string;
  streamArn: string;
  region: string;
  invoke: (event: { Records: KinesisEventRecord[] }) => Promise<BatchResult>;
  onFailure: (failed: FailedBatch) => Promise<void>;
  batchSize?: number;
  /**
   * Batches of one shard processed at once (Lambda's ParallelizationFactor, 1-10): the records read from a shard are
   * split by partition key into this many groups, each delivered in batches of at most batchSize, in order within its
   * group, all at the same time; the shard is read on once every group is done. A key's records stay in order, as
   * in Lambda (which, unlike this, lets each group read on by itself).
   */
  parallelizationFactor?: number;
  maximumRetryAttempts?: number;
  /** Records older than this (by arrival in the stream) are sent on-failure instead of being invoked; -1: no limit. */
  maximumRecordAgeInSeconds?: number;
  /** The function's ARN, for the on-failure record. */
  functionArn?: string;
  bisectBatchOnFunctionError?: boolean;
  reportBatchItemFailures?: boolean;
  startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  pollIntervalMs?: number;
  log?: (message: string) => void;
}

export interface EventSourceStats {
  invocations: number;
  /** Records processed, counting a record delivered again after a failure once per delivery. */
  recordsDelivered: number;
  /** Distinct partition keys (invoice numbers) among the processed records: a re-sent invoice counts once. */
  invoicesDelivered: number;
  retries: number;
  recordsSentToOnFailure: number;
  /** Of those, records given up because they were older than maximumRecordAgeInSeconds. */
  recordsExpired: number;
  /** Records read from the stream and not yet fully processed. */
  inFlight: number;
}

export interface RunningEventSource {
  stats(): EventSourceStats;
  /**
   * Resolves once every record written to the stream before the call has been processed or sent on-failure; rejects
   * when no record has been processed for `stallMs` (default 60 s).
   */
  drain(stallMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function toEventRecord(record: KinesisRecord, shardId: string, options: EventSourceOptions): KinesisEventRecord {
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.PartitionKey ?? '',
      sequenceNumber: record.SequenceNumber ?? '',
      data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
      approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${record.SequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::000000000000:role/local',
    awsRegion: options.region,
    eventSourceARN: options.streamArn,
  };
}

/** Records split into `groups` by a hash of their partition key, each group in stream order (empty groups left out). */
export function byPartitionKey(records: KinesisEventRecord[], groups: number): KinesisEventRecord[][] {
  if (groups === 1) return [records];
  const split: KinesisEventRecord[][] = Array.from({ length: groups }, () => []);
  for (const record of records) split[createHash('md5').update(record.kinesis.partitionKey).digest().readUInt32BE(0) % groups]?.push(record);
  return split.filter((group) => group.length > 0);
}

export async function startKinesisEventSource(options: EventSourceOptions): Promise<RunningEventSource> {
  const log = options.log ?? (() => undefined);
  const batchSize = options.batchSize ?? 100;
  const factor = options.parallelizationFactor ?? 1;
  if (!Number.isInteger(factor) || factor < 1 || factor > 10) throw new RangeError('parallelizationFactor must be an integer from 1 to 10');
  const maxRetries = options.maximumRetryAttempts ?? 3;
  const maxAgeMs = (options.maximumRecordAgeInSeconds ?? -1) * 1000;
  const stats: EventSourceStats = { invocations: 0, recordsDelivered: 0, invoicesDelivered: 0, retries: 0, recordsSentToOnFailure: 0, recordsExpired: 0, inFlight: 0 };
  const invoicesDelivered = new Set<string>();
  const processed = (records: KinesisEventRecord[]) => {
    stats.recordsDelivered += records.length;
    stats.inFlight -= records.length;
    for (const record of records) invoicesDelivered.add(record.kinesis.partitionKey);
    stats.invoicesDelivered = invoicesDelivered.size;
  };
  let running = true;
  const lastSequence = new Map<string, string>();
  /** A logical clock: drain compares when it was called with when each shard was last found read to its tip. */
  let clock = 0;
  const tick = () => ++clock;
  /** Per shard, when the latest GetRecords that answered no records was asked for. */
  const readToTip = new Map<string, number>();
  const { StreamDescription } = await options.kinesis.send(new DescribeStreamCommand({ StreamName: options.streamName }));
  const shards = (StreamDescription?.Shards ?? []).map((s) => s.ShardId as string);

  /** Delivers one batch with Lambda's retry rules; returns when every record is processed or sent on-failure. */
  async function deliver(shardId: string, records: KinesisEventRecord[], attempt = 0): Promise<void> {
    if (maxAgeMs >= 0) {
      // A shard is in arrival order, so the expired records are the head of the batch: given up, never skipped silently.
      const oldest = Date.now() - maxAgeMs;
      const fresh = records.findIndex((r) => r.kinesis.approximateArrivalTimestamp * 1000 >= oldest);
      const expired = fresh < 0 ? records : records.slice(0, fresh);
      if (expired.length > 0) {
        await giveUp(shardId, expired, attempt, 'RecordAgeExceeded', `older than ${maxAgeMs / 1000} s`);
        stats.recordsExpired += expired.length;
        records = fresh < 0 ? [] : records.slice(fresh);
      }
    }
    if (records.length === 0) return;
    stats.invocations += 1;
    let result: BatchResult;
    try {
      result = await options.invoke({ Records: records });
    } catch (error) {
      result = { functionError: (error as Error).message };
    }
    if (!result.functionError && options.reportBatchItemFailures && result.batchItemFailures?.length) {
      // Lambda resumes from the lowest reported sequence number; everything before it is done.
      const failed = result.batchItemFailures.map((f) => f.itemIdentifier);
      const index = records.findIndex((r) => failed.includes(r.kinesis.sequenceNumber));
      if (index < 0) {
        result = { functionError: `batchItemFailures names unknown sequence numbers: ${failed.join(', ')}` };
      } else {
        processed(records.slice(0, index));
        return retry(shardId, records.slice(index), attempt, `reported item failure at ${records[index]?.kinesis.sequenceNumber}`);
      }
    }
    if (result.functionError) return retry(shardId, records, attempt, result.functionError);
    processed(records);
  }

  /** Sends the batch's metadata on-failure (as Lambda does) and counts its records as done. */
  async function giveUp(shardId: string, records: KinesisEventRecord[], invocations: number, condition: FailureCondition, reason: string): Promise<void> {
    const arrival = (record: KinesisEventRecord | undefined) => new Date((record?.kinesis.approximateArrivalTimestamp ?? 0) * 1000).toISOString();
    await options.onFailure({
      requestContext: { requestId: randomUUID(), functionArn: options.functionArn ?? 'arn:aws:lambda:local', condition, approximateInvokeCount: invocations },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', ...(condition === 'RetryAttemptsExhausted' ? { functionError: reason.slice(0, 256) } : {}) },
      version: '1.0',
      timestamp: new Date().toISOString(),
      KinesisBatchInfo: {
        shardId,
        startSequenceNumber: records[0]?.kinesis.sequenceNumber ?? '',
        endSequenceNumber: records.at(-1)?.kinesis.sequenceNumber ?? '',
        approximateArrivalOfFirstRecord: arrival(records[0]),
        approximateArrivalOfLastRecord: arrival(records.at(-1)),
        batchSize: records.length,
        streamArn: options.streamArn,
      },
    });
    stats.recordsSentToOnFailure += records.length;
    stats.inFlight -= records.length;
    log(`event source: ${records.length} record(s) of ${shardId} sent on-failure (${condition}) after ${invocations} invocation(s): ${reason}`);
  }

  async function retry(shardId: string, records: KinesisEventRecord[], attempt: number, reason: string): Promise<void> {
    if (attempt >= maxRetries) return giveUp(shardId, records, attempt + 1, 'RetryAttemptsExhausted', reason);
    stats.retries += 1;
    await sleep(backoffDelay(attempt + 1, { baseDelayMs: 50, maxDelayMs: 1_000 }));
    if (options.bisectBatchOnFunctionError && records.length > 1) {
      // Bisection halves the batch; each half gets the remaining attempts, so a poison record ends up alone.
      const middle = Math.ceil(records.length / 2);
      await deliver(shardId, records.slice(0, middle), attempt + 1);
      await deliver(shardId, records.slice(middle), attempt + 1);
      return;
    }
    await deliver(shardId, records, attempt + 1);
  }

  async function pollShard(shardId: string): Promise<void> {
    const iterator = async () => {
      const after = lastSequence.get(shardId);
      const input = after
        ? { StreamName: options.streamName, ShardId: shardId, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, StartingSequenceNumber: after }
        : { StreamName: options.streamName, ShardId: shardId, ShardIteratorType: options.startingPosition ?? 'TRIM_HORIZON' };
      return (await options.kinesis.send(new GetShardIteratorCommand(input))).ShardIterator;
    };
    /** One GetRecords, with the moment it was asked for (an empty answer says the shard was read to its tip then). */
    const read = async (from: string) => {
      const askedAt = tick();
      return { askedAt, reply: await options.kinesis.send(new GetRecordsCommand({ ShardIterator: from, Limit: batchSize * factor })) };
    };
    let shardIterator = await iterator();
    /** The next batch, read while the current one is delivered (see below). */
    let ahead: ReturnType<typeof read> | undefined;
    while (running && shardIterator) {
      try {
        const { askedAt, reply } = await (ahead ?? read(shardIterator));
        ahead = undefined;
        const records = reply.Records ?? [];
        shardIterator = reply.NextShardIterator;
        if (records.length === 0) readToTip.set(shardId, askedAt);
        if (records.length > 0) {
          // Reading the next batch overlaps this batch's invocation (a GetRecords is ~25 ms of kinesalite per batch).
          // The function sees the same batches in the same order, one at a time per shard; a batch read ahead is
          // delivered only after this one is processed or sent on-failure, and dropped if reading fails.
          if (shardIterator) {
            ahead = read(shardIterator);
            ahead.catch(() => undefined);
          }
          stats.inFlight += records.length;
          const events = records.map((r) => toEventRecord(r, shardId, options));
          await Promise.all(byPartitionKey(events, factor).map(async (group) => {
            for (let start = 0; start < group.length; start += batchSize) await deliver(shardId, group.slice(start, start + batchSize));
          }));
          lastSequence.set(shardId, records.at(-1)?.SequenceNumber as string);
        } else await sleep(options.pollIntervalMs ?? 200);
      } catch (error) {
        ahead = undefined;
        if (!running) return;
        if (!(error instanceof ExpiredIteratorException)) log(`event source: polling ${shardId} failed, retrying: ${(error as Error).message}`);
        await sleep(500);
        shardIterator = await iterator().catch(() => shardIterator);
      }
    }
  }

  const pollers = shards.map((shardId) => pollShard(shardId));

  return {
    stats: () => ({ ...stats }),
    async drain(stallMs = 60_000) {
      // Every record put before this call is in a shard that a GetRecords asked for after it has found empty: the
      // poller read past it, in order. With nothing in flight it has been processed or sent on-failure. The pollers'
      // own reads tell this, so draining reads nothing itself (reading the stream again to learn its last sequence
      // numbers cost a whole-stream read, ~100 MB for the dataset, at the moment the processor is busiest).
      const calledAt = tick();
      // A slow machine is not a failure: give up only when nothing has moved for stallMs.
      const progress = () => stats.recordsDelivered + stats.recordsSentToOnFailure + stats.retries;
      let seen = progress();
      let deadline = Date.now() + stallMs;
      const passed = () => shards.every((shard) => (readToTip.get(shard) ?? 0) > calledAt);
      while (!passed() || stats.inFlight > 0) {
        if (progress() !== seen) {
          seen = progress();
          deadline = Date.now() + stallMs;
        }
        if (Date.now() > deadline) throw new Error(`event source stalled: no record processed for ${stallMs} ms: ${JSON.stringify(stats)}`);
        await sleep(100);
      }
    },
    async stop() {
      running = false;
      await Promise.allSettled(pollers);
    },
  };
}
