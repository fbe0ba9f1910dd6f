import { CreateStreamCommand, GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { localClients } from './clients';
import { startKinesis } from './emulators';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './endpoints';

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

export interface TestKinesis {
  endpoint: string;
  /** What a handler needs to reach this Kinesis (pass to startOffline's env). */
  environment: Record<string, string>;
  client: KinesisClient;
  createStream(name: string, shards: number): Promise<void>;
  readAll(name: string): Promise<StreamRecord[]>;
  stop(): Promise<void>;
}

/** Kinesis alone (kinesalite in this process, a free port, in memory), for tests that need no other part of the stack. */
export async function startTestKinesis(): Promise<TestKinesis> {
  const server = await startKinesis({ port: 0 });
  const { kinesis: client, destroy } = localClients({ region: LOCAL_REGION, credentials: { ...LOCAL_CREDENTIALS }, kinesis: server.endpoint, dynamodb: '', s3: '', firehose: '' });
  return {
    endpoint: server.endpoint,
    environment: { AWS_ENDPOINT_URL_KINESIS: server.endpoint, AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey },
    client,
    createStream: async (name, shards) => {
      await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
    },
    readAll: (name) => readStreamRecords(client, name),
    stop: async () => {
      destroy();
      await server.stop();
    },
  };
}
