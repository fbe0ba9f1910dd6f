// `@invoice-pipeline/local-emulators/testing`: one emulator alone, on a free port, for tests that need no other part
// of the stack. Test code only: production code never imports this file.
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { CreateStreamCommand, DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { emulatorKinesisClient, emulatorS3Client } from './clients';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './credentials';
import { startKinesis, startS3 } from './emulators';
import { readStreamRecords, type StreamRecord } from './kinesis-records';

const local = { region: LOCAL_REGION, credentials: { ...LOCAL_CREDENTIALS } };

export interface TestKinesis {
  endpoint: string;
  /** What a handler needs to reach this Kinesis (pass to startOffline's env). */
  environment: Record<string, string>;
  client: KinesisClient;
  /** Creates a stream (ACTIVE at once) and resolves to its ARN. */
  createStream(name: string, shards: number): Promise<string>;
  readAll(name: string): Promise<StreamRecord[]>;
  stop(): Promise<void>;
}

/** Kinesis alone (kinesalite in this process, a free port, in memory). */
export async function startTestKinesis(): Promise<TestKinesis> {
  const server = await startKinesis({ port: 0 });
  const client = emulatorKinesisClient({ ...local, endpoint: server.endpoint });
  return {
    endpoint: server.endpoint,
    environment: { AWS_ENDPOINT_URL_KINESIS: server.endpoint, AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey },
    client,
    createStream: async (name, shards) => {
      await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
      const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
      return summary.StreamDescriptionSummary?.StreamARN ?? '';
    },
    readAll: (name) => readStreamRecords(client, name),
    stop: async () => {
      client.destroy();
      await server.stop();
    },
  };
}

export interface TestS3 {
  endpoint: string;
  client: S3Client;
  createBucket(name: string): Promise<void>;
  keys(bucket: string, prefix?: string): Promise<string[]>;
  /** The object's bytes, gunzipped when its key ends with .gz. */
  read(bucket: string, key: string): Promise<Buffer>;
  stop(): Promise<void>;
}

/** S3 alone (s3rver in this process, a free port, objects in a temporary folder removed at stop), with `buckets`. */
export async function startTestS3(buckets: readonly string[] = []): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'test-s3-'));
  const server = await startS3({ port: 0, dataDir: directory });
  const client = emulatorS3Client({ ...local, endpoint: server.endpoint });
  const createBucket = async (name: string) => {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  };
  for (const bucket of buckets) await createBucket(bucket);
  return {
    endpoint: server.endpoint,
    client,
    createBucket,
    async keys(bucket, prefix) {
      const listing = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      return (listing.Contents ?? []).flatMap((object) => (object.Key ? [object.Key] : [])).sort();
    },
    async read(bucket, key) {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const bytes = Buffer.from((await object.Body?.transformToByteArray()) ?? new Uint8Array());
      return key.endsWith('.gz') ? gunzipSync(bytes) : bytes;
    },
    async stop() {
      client.destroy();
      await server.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export { startUnprocessedItemsProxy, type UnprocessedItemsProxy, type UnprocessedItemsProxyOptions, type WireWriteRequest } from './unprocessed-items-proxy';
