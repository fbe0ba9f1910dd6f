import type { AddressInfo } from 'node:net';
import { CreateStreamCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import kinesalite from 'kinesalite';

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** kinesalite in this process on a free port, one stream, and a way to read all of it back. */
export async function startLocalKinesis(stream: string, shards: number) {
  const server = kinesalite({ createStreamMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new KinesisClient({ region: 'eu-west-2', endpoint, credentials: LOCAL_CREDENTIALS, requestHandler: new NodeHttpHandler() });
  await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: shards }));

  /** Every record's partition key and data, shard by shard. */
  async function readAll(): Promise<Array<{ partitionKey: string; data: string }>> {
    const records: Array<{ partitionKey: string; data: string }> = [];
    const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: stream }));
    for (const { ShardId } of Shards) {
      let { ShardIterator } = await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
      while (ShardIterator) {
        const page = await client.send(new GetRecordsCommand({ ShardIterator, Limit: 10_000 }));
        if (!page.Records?.length) break;
        for (const record of page.Records) records.push({ partitionKey: record.PartitionKey ?? '', data: Buffer.from(record.Data ?? new Uint8Array()).toString('utf8') });
        ShardIterator = page.NextShardIterator;
      }
    }
    return records;
  }

  const stop = async () => {
    client.destroy();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections?.();
    });
  };
  return { endpoint, readAll, stop };
}
