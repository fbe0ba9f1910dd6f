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
 * first empty page of each shard. The next page is asked for as soon as a page arrives, so the emulator serves it while
 * the caller works through this one (the same calls as one page after another, in the same order).
 */
export async function* streamRecordPages(kinesis: KinesisClient, streamName: string): AsyncGenerator<StreamRecord[]> {
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  for (const { ShardId = '' } of Shards) {
    const { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    const getPage = (iterator: string) => {
      const page = kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: GET_RECORDS_LIMIT }));
      page.catch(() => undefined); // awaited below; a caller that stops early must not leave it unhandled
      return page;
    };
    let next: Promise<GetRecordsCommandOutput> | undefined = ShardIterator ? getPage(ShardIterator) : undefined;
    while (next) {
      const page: GetRecordsCommandOutput = await next;
      if (!page.Records?.length) break;
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
