import {
  AddTagsToStreamCommand,
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListStreamsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emulatorKinesisClient, LOCAL_CREDENTIALS, startKinesis, type RunningServer } from '../src';

/**
 * kinesalite is patched (patches/kinesalite@3.3.3.patch) to keep stream descriptions in memory and to do its hash-key
 * and sequence-number arithmetic with BigInt. What the pipeline relies on must not change: a record goes to the shard
 * whose hash-key range holds its partition key's MD5, sequence numbers grow and are read back in order, and each change
 * to a stream (including one persisted before a restart) is seen by the next request.
 */
describe('kinesalite streams, described from memory', () => {
  let dir: string;
  let server: RunningServer;
  let client: KinesisClient;

  const start = async () => {
    server = await startKinesis({ port: 0, dataDir: dir });
    client = emulatorKinesisClient({ endpoint: server.endpoint, region: 'eu-west-2', credentials: LOCAL_CREDENTIALS });
  };
  const stop = async () => {
    client?.destroy();
    await server?.stop();
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kinesalite-streams-'));
    await start();
  });

  afterAll(async () => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  });

  const describeStream = (name: string) => client.send(new DescribeStreamCommand({ StreamName: name })).then((reply) => reply.StreamDescription);
  async function createStream(name: string, shards: number): Promise<void> {
    await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
    while ((await describeStream(name))?.StreamStatus !== 'ACTIVE') await new Promise((resolve) => setTimeout(resolve, 10));
  }
  async function deleteStream(name: string): Promise<void> {
    await client.send(new DeleteStreamCommand({ StreamName: name }));
    while ((await client.send(new ListStreamsCommand({}))).StreamNames?.includes(name)) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  async function readShard(name: string, shardId: string): Promise<Array<{ key: string; sequenceNumber: string }>> {
    let iterator = (await client.send(new GetShardIteratorCommand({ StreamName: name, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    const records: Array<{ key: string; sequenceNumber: string }> = [];
    for (;;) {
      const reply = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      if (!reply.Records?.length) return records;
      records.push(...reply.Records.map((record) => ({ key: record.PartitionKey as string, sequenceNumber: record.SequenceNumber as string })));
      iterator = reply.NextShardIterator;
    }
  }
  const md5 = (key: string) => BigInt(`0x${createHash('md5').update(key, 'utf8').digest('hex')}`);

  it('concurrent puts: each record on the shard whose range holds its key, sequence numbers unique and read back in order', async () => {
    await createStream('spread', 4);
    const shards = (await describeStream('spread'))?.Shards ?? [];
    const keys = Array.from({ length: 400 }, (_, index) => String(536365 + index));
    const placed = await Promise.all(
      keys.map(async (key, index) => {
        const reply =
          index % 2
            ? await client.send(new PutRecordCommand({ StreamName: 'spread', PartitionKey: key, Data: Buffer.from(key) }))
            : ((await client.send(new PutRecordsCommand({ StreamName: 'spread', Records: [{ PartitionKey: key, Data: Buffer.from(key) }] }))).Records?.[0] ?? {});
        return { key, shardId: reply.ShardId, sequenceNumber: reply.SequenceNumber as string };
      }),
    );
    for (const { key, shardId } of placed) {
      const shard = shards.find((candidate) => candidate.ShardId === shardId);
      expect(md5(key) >= BigInt(shard?.HashKeyRange?.StartingHashKey ?? -1)).toBe(true);
      expect(md5(key) <= BigInt(shard?.HashKeyRange?.EndingHashKey ?? -1)).toBe(true);
    }
    expect(new Set(placed.map((record) => record.sequenceNumber)).size).toBe(keys.length);
    for (const shard of shards) {
      const read = await readShard('spread', shard.ShardId as string);
      const sequenceNumbers = read.map((record) => BigInt(record.sequenceNumber));
      expect(sequenceNumbers).toEqual([...sequenceNumbers].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      expect(read).toEqual(placed.filter((record) => record.shardId === shard.ShardId).map(({ key, sequenceNumber }) => ({ key, sequenceNumber })).sort((a, b) => (BigInt(a.sequenceNumber) < BigInt(b.sequenceNumber) ? -1 : 1)));
    }
  });

  it('a change to a stream is seen by the next request: tags, and a stream deleted and created again with other shards', async () => {
    await createStream('changing', 1);
    await client.send(new PutRecordsCommand({ StreamName: 'changing', Records: [{ PartitionKey: 'a', Data: Buffer.from('a') }] }));
    await client.send(new AddTagsToStreamCommand({ StreamName: 'changing', Tags: { room: 'ingest' } }));
    await client.send(new PutRecordsCommand({ StreamName: 'changing', Records: [{ PartitionKey: 'b', Data: Buffer.from('b') }] }));
    expect((await readShard('changing', 'shardId-000000000000')).map((record) => record.key)).toEqual(['a', 'b']);
    await deleteStream('changing');
    await expect(client.send(new PutRecordsCommand({ StreamName: 'changing', Records: [{ PartitionKey: 'c', Data: Buffer.from('c') }] }))).rejects.toThrow(/not found/);
    await createStream('changing', 3);
    const reply = await client.send(new PutRecordsCommand({ StreamName: 'changing', Records: ['x', 'y', 'z', 'w'].map((key) => ({ PartitionKey: key, Data: Buffer.from(key) })) }));
    expect(reply.FailedRecordCount).toBe(0);
    expect((await describeStream('changing'))?.Shards?.map((shard) => shard.ShardId)).toEqual(['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002']);
  });

  it('after a restart on the same data, sequence numbers carry on above those given before', async () => {
    await createStream('kept', 1);
    const before = await client.send(new PutRecordsCommand({ StreamName: 'kept', Records: [{ PartitionKey: 'k', Data: Buffer.from('1') }] }));
    await stop();
    await start();
    const after = await client.send(new PutRecordsCommand({ StreamName: 'kept', Records: [{ PartitionKey: 'k', Data: Buffer.from('2') }] }));
    expect(BigInt(after.Records?.[0]?.SequenceNumber ?? 0)).toBeGreaterThan(BigInt(before.Records?.[0]?.SequenceNumber ?? 0));
    expect((await readShard('kept', 'shardId-000000000000')).map((record) => record.sequenceNumber)).toEqual([before.Records?.[0]?.SequenceNumber, after.Records?.[0]?.SequenceNumber]);
  });
});
