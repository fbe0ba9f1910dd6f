import type { AddressInfo } from 'node:net';
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import kinesalite from 'kinesalite';

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** A record read back from the stream. */
export interface StreamRecord {
  partitionKey: string;
  sequenceNumber: string;
  shardId: string;
  data: string;
}

export interface LocalKinesis {
  endpoint: string;
  client: KinesisClient;
  createStream(name: string, shards: number): Promise<void>;
  /** Every record of the stream, shard by shard, oldest first. */
  readAll(name: string): Promise<StreamRecord[]>;
  stop(): Promise<void>;
}

/** kinesalite in this process on a free 127.0.0.1 port, with a client for it. */
export async function startLocalKinesis(): Promise<LocalKinesis> {
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new KinesisClient({ region: 'eu-west-2', endpoint, credentials: LOCAL_CREDENTIALS, requestHandler: new NodeHttpHandler() });

  return {
    endpoint,
    client,
    createStream: async (name, shards) => {
      await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
    },
    readAll: async (name) => {
      const records: StreamRecord[] = [];
      const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: name }));
      for (const { ShardId } of Shards) {
        let { ShardIterator } = await client.send(new GetShardIteratorCommand({ StreamName: name, ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
        while (ShardIterator) {
          const page = await client.send(new GetRecordsCommand({ ShardIterator, Limit: 10_000 }));
          for (const record of page.Records ?? []) {
            records.push({
              partitionKey: record.PartitionKey ?? '',
              sequenceNumber: record.SequenceNumber ?? '',
              shardId: ShardId ?? '',
              data: Buffer.from(record.Data ?? new Uint8Array()).toString('utf8'),
            });
          }
          if (!page.Records?.length) break;
          ShardIterator = page.NextShardIterator;
        }
      }
      return records;
    },
    stop: async () => {
      client.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
    },
  };
}
