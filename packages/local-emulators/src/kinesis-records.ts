import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type GetRecordsCommandOutput, type KinesisClient } from '@aws-sdk/client-kinesis';

/** A record read back from a stream. */
export interface StreamRecord {
  partitionKey: string;
  sequenceNumber: string;
  shardId: string;
  data: string;
}

/** GetRecords' largest page (Kinesis and kinesalite alike). */
const GET_RECORDS_LIMIT = 10_000;

/**
 * Every record of a stream, a GetRecords page at a time: shard by shard, oldest first, from the trim horizon, to the
 * first empty page of each shard. The next page is asked for as soon as a page arrives, and the next shard's first page
 * as soon as a shard is begun, so the emulator serves them while the caller works through this one (the same calls as
 * one page after another, and the pages come in the same order).
 */
export async function* streamRecordPages(kinesis: KinesisClient, streamName: string): AsyncGenerator<StreamRecord[]> {
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  // Asked for ahead and awaited in order: one that fails while an earlier page is read must not go unhandled meanwhile.
  const ahead = <T>(promise: Promise<T>) => {
    promise.catch(() => undefined);
    return promise;
  };
  const getPage = (iterator: string) => ahead(kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: GET_RECORDS_LIMIT })));
  const firstPage = (ShardId: string) =>
    ahead(
      kinesis
        .send(new GetShardIteratorCommand({ StreamName: streamName, ShardId, ShardIteratorType: 'TRIM_HORIZON' }))
        .then(({ ShardIterator }) => (ShardIterator ? getPage(ShardIterator) : undefined)),
    );
  let nextShard = Shards[0] ? firstPage(Shards[0].ShardId ?? '') : undefined;
  for (const [index, { ShardId = '' }] of Shards.entries()) {
    let next: Promise<GetRecordsCommandOutput | undefined> | undefined = nextShard;
    const following = Shards[index + 1];
    nextShard = following ? firstPage(following.ShardId ?? '') : undefined;
    while (next) {
      const page: GetRecordsCommandOutput | undefined = await next;
      if (!page?.Records?.length) break;
      next = page.NextShardIterator ? getPage(page.NextShardIterator) : undefined;
      yield page.Records.map((record) => ({
        partitionKey: record.PartitionKey ?? '',
        sequenceNumber: record.SequenceNumber ?? '',
        shardId: ShardId,
        data: record.Data ? Buffer.from(record.Data.buffer, record.Data.byteOffset, record.Data.byteLength).toString('utf8') : '',
      }));
    }
  }
}

/** Every record of a stream, shard by shard, oldest first, from the trim horizon. */
export async function readStreamRecords(kinesis: KinesisClient, streamName: string): Promise<StreamRecord[]> {
  const records: StreamRecord[] = [];
  for await (const page of streamRecordPages(kinesis, streamName)) for (const record of page) records.push(record);
  return records;
}
