import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import type { FirehoseRecord } from './delivery-stream';

export type StartingPosition = 'LATEST' | 'TRIM_HORIZON';

export interface KinesisSourceOptions {
  kinesis: KinesisClient;
  streamName: string;
  /** Where shards present at start are read from; shards that appear later (resharding) are read from their start. */
  startingPosition: StartingPosition;
  pollIntervalMs: number;
  /** Takes records read from a shard; the checkpoint moves past them once it resolves. */
  onRecords: (records: FirehoseRecord[]) => void | Promise<void>;
  onError: (error: unknown) => void;
  /** Last sequence number handed over per shard, from before a restart: those shards resume right after it. */
  checkpoints?: Readonly<Record<string, string>>;
  /** Hears the last sequence number of a shard once onRecords has taken its records (and journaled them). */
  onCheckpoint?: (shardId: string, sequenceNumber: string) => void;
}

export interface KinesisSource {
  /** Reads every shard up to its tip, after any poll already under way. */
  pollNow(): Promise<void>;
  /**
   * Ends polling. By default it first reads every shard to its tip (the last poll is delivered, not dropped); with
   * finalPoll false it aborts at once. Records not read stay in the stream for the next start (checkpoints).
   */
  stop(options?: { finalPoll?: boolean }): Promise<void>;
}

type IteratorPosition = Pick<GetShardIteratorCommandInput, 'ShardIteratorType' | 'Timestamp' | 'StartingSequenceNumber'>;

interface ShardReader {
  shardId: string;
  /** Where to start again when no record has been read yet and the iterator expired. */
  origin: IteratorPosition;
  iterator?: string;
  lastSequenceNumber?: string;
  /** A closed shard (after a split or merge) read to its end. */
  finished: boolean;
}

/** GetRecords calls per shard in one poll, so one busy shard cannot starve the others. */
const maxPagesPerPoll = 20;

/**
 * Firehose's Kinesis source: polls GetRecords on every shard about once per poll interval, follows resharding and
 * recovers from expired iterators by resuming after the last sequence number read.
 */
export async function startKinesisSource(options: KinesisSourceOptions): Promise<KinesisSource> {
  const { kinesis, streamName } = options;
  const abort = new AbortController();
  const readers = new Map<string, ShardReader>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  async function listShardIds(): Promise<string[]> {
    const ids: string[] = [];
    let nextToken: string | undefined;
    do {
      // ListShards takes either the stream name or a NextToken, never both.
      const input = nextToken ? { NextToken: nextToken } : { StreamName: streamName };
      const page = await kinesis.send(new ListShardsCommand(input), { abortSignal: abort.signal });
      ids.push(...(page.Shards ?? []).flatMap((shard) => (shard.ShardId ? [shard.ShardId] : [])));
      nextToken = page.NextToken;
    } while (nextToken);
    return ids;
  }

  async function shardIterator(shardId: string, position: IteratorPosition): Promise<string> {
    const response = await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ...position }), {
      abortSignal: abort.signal,
    });
    if (!response.ShardIterator) throw new Error(`GetShardIterator returned no iterator for ${streamName}/${shardId}`);
    return response.ShardIterator;
  }

  const resumePosition = (reader: ShardReader): IteratorPosition =>
    reader.lastSequenceNumber ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: reader.lastSequenceNumber } : reader.origin;

  async function readShard(reader: ShardReader): Promise<void> {
    for (let page = 0; page < maxPagesPerPoll; page += 1) {
      try {
        reader.iterator ??= await shardIterator(reader.shardId, resumePosition(reader));
        const response = await kinesis.send(new GetRecordsCommand({ ShardIterator: reader.iterator, Limit: 10_000 }), {
          abortSignal: abort.signal,
        });
        const records = response.Records ?? [];
        if (records.length > 0) {
          await options.onRecords(
            records.map((record) => ({ data: Buffer.from(record.Data ?? new Uint8Array()), arrivedAt: record.ApproximateArrivalTimestamp ?? new Date() })),
          );
          reader.lastSequenceNumber = records.at(-1)?.SequenceNumber ?? reader.lastSequenceNumber;
          if (reader.lastSequenceNumber) options.onCheckpoint?.(reader.shardId, reader.lastSequenceNumber);
        }
        if (!response.NextShardIterator) {
          reader.finished = true;
          return;
        }
        reader.iterator = response.NextShardIterator;
        if (records.length === 0 || response.MillisBehindLatest === 0) return;
      } catch (error) {
        if (abort.signal.aborted) return;
        // An iterator lives five minutes: take a new one, after the last record read, and go on.
        if (error instanceof Error && error.name === 'ExpiredIteratorException') {
          reader.iterator = undefined;
          continue;
        }
        options.onError(error);
        return;
      }
    }
  }

  async function discoverShards(origin: IteratorPosition): Promise<void> {
    for (const shardId of await listShardIds()) {
      if (!readers.has(shardId)) readers.set(shardId, { shardId, origin, finished: false, lastSequenceNumber: options.checkpoints?.[shardId] });
    }
  }

  async function pollAll(): Promise<void> {
    try {
      await discoverShards({ ShardIteratorType: 'TRIM_HORIZON' });
    } catch (error) {
      if (!abort.signal.aborted) options.onError(error);
    }
    for (const reader of readers.values()) {
      if (!reader.finished && !abort.signal.aborted) await readShard(reader);
    }
  }

  // Polls never overlap: each one waits for the one before it.
  let pollChain: Promise<void> = Promise.resolve();
  const poll = () => {
    const run = pollChain.then(pollAll);
    pollChain = run.catch(options.onError);
    return run;
  };
  const scheduleNextPoll = () => {
    if (stopped) return;
    timer = setTimeout(() => void poll().finally(scheduleNextPoll), options.pollIntervalMs);
  };

  // Take the starting iterators before returning, so LATEST means "after the delivery stream was created".
  const startedAt = new Date();
  const origin: IteratorPosition =
    options.startingPosition === 'TRIM_HORIZON' ? { ShardIteratorType: 'TRIM_HORIZON' } : { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: startedAt };
  await discoverShards(origin);
  for (const reader of readers.values()) {
    // A checkpoint from before a restart wins over the starting position: nothing put meanwhile is skipped.
    reader.iterator = await shardIterator(reader.shardId, reader.lastSequenceNumber ? resumePosition(reader) : { ShardIteratorType: options.startingPosition });
  }
  scheduleNextPoll();

  return {
    pollNow: poll,
    async stop({ finalPoll = true } = {}) {
      stopped = true;
      clearTimeout(timer);
      if (finalPoll) await poll().catch(() => undefined);
      abort.abort();
      await pollChain;
    },
  };
}
