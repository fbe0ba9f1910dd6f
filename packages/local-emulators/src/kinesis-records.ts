import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';

/** A record read back from a stream. */
export interface StreamRecord {
  partitionKey: string;
  sequenceNumber: string;
  shardId: string;
  data: string;
}

/** Every record of a stream, shard by shard, oldest first, from the trim horizon. */
export async function readStreamRecords(kinesis: KinesisClient, streamName: string): Promise<StreamRecord[]> {
  const records: StreamRecord[] = [];
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  for (const { ShardId = '' } of Shards) {
    let { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    while (ShardIterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 10_000 }));
      if (!page.Records?.length) break;
      for (const record of page.Records) {
        records.push({
          partitionKey: record.PartitionKey ?? '',
          sequenceNumber: record.SequenceNumber ?? '',
          shardId: ShardId,
          data: Buffer.from(record.Data ?? new Uint8Array()).toString('utf8'),
        });
      }
      ShardIterator = page.NextShardIterator;
    }
  }
  return records;
}
