/** Real local services for the Firehose tests: s3rver, kinesalite and an in-memory PGlite warehouse. */
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { PGlite } from '@electric-sql/pglite';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { WarehouseLoader } from './warehouse-loader';
import type { DeliveryStreamStats } from './delivery-stream';

// s3rver and kinesalite ship no types: loaded through require with just the surface used here.
const requireUntyped = createRequire(__filename);
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: {
  port: number;
  address: string;
  silent: boolean;
  directory: string;
  configureBuckets: Array<{ name: string }>;
}) => S3rverInstance;
type Kinesalite = (options: { createStreamMs?: number; updateStreamMs?: number; deleteStreamMs?: number }) => Server;

const region = 'us-east-1';
/** s3rver's built-in account, so request signatures verify. */
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function firehoseClientFor(endpoint: string): FirehoseClient {
  return new FirehoseClient({ endpoint, region, credentials, maxAttempts: 1 });
}

export interface TestS3 {
  client: S3Client;
  createBucket(name: string): Promise<void>;
  keys(bucket: string, prefix?: string): Promise<string[]>;
  /** The object's bytes, gunzipped when its key ends with .gz. */
  read(bucket: string, key: string): Promise<Buffer>;
  stop(): Promise<void>;
}

export async function startTestS3(buckets: readonly string[]): Promise<TestS3> {
  const S3rver = requireUntyped('s3rver') as S3rverConstructor;
  const directory = await mkdtemp(join(tmpdir(), 'firehose-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
  const { port } = await server.run();
  const client = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region,
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    client,
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async keys(bucket, prefix) {
      const listing = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      return (listing.Contents ?? []).flatMap((object) => (object.Key ? [object.Key] : [])).sort();
    },
    async read(bucket, key) {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const bytes = Buffer.from(await object.Body!.transformToByteArray());
      return key.endsWith('.gz') ? gunzipSync(bytes) : bytes;
    },
    async stop() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export interface TestKinesis {
  client: KinesisClient;
  /** Creates a stream and resolves to its ARN. */
  createStream(name: string, shardCount: number): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestKinesis(): Promise<TestKinesis> {
  const kinesalite = requireUntyped('kinesalite') as Kinesalite;
  const server = kinesalite({ createStreamMs: 0, updateStreamMs: 0, deleteStreamMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new KinesisClient({ endpoint: `http://127.0.0.1:${port}`, region, credentials, requestHandler: new NodeHttpHandler() });
  return {
    client,
    async createStream(name, shardCount) {
      await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shardCount }));
      const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
      return summary.StreamDescriptionSummary!.StreamARN!;
    },
    async stop() {
      client.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

export interface TestWarehouse {
  db: PGlite;
  /** A WarehouseLoader over PGlite: one multi-row INSERT in one transaction, like a COPY. */
  loader: WarehouseLoader;
  /** While true, copyRows fails as an unreachable warehouse would. */
  down: boolean;
  /** copyRows calls, failed ones included. */
  loadAttempts: number;
  stop(): Promise<void>;
}

const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;

export async function startTestWarehouse(ddl: string): Promise<TestWarehouse> {
  const db = new PGlite();
  await db.exec(ddl);
  const warehouse: TestWarehouse = {
    db,
    down: false,
    loadAttempts: 0,
    loader: {
      async copyRows(table, columns, rows) {
        warehouse.loadAttempts += 1;
        if (warehouse.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5439');
        if (rows.length === 0) return;
        const params = rows.flatMap((row) => columns.map((column) => row[column] ?? null));
        const tuples = rows.map((_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`);
        await db.transaction(async (tx) => {
          await tx.query(`INSERT INTO ${quoteIdentifier(table)} (${columns.map(quoteIdentifier).join(', ')}) VALUES ${tuples.join(', ')}`, params);
        });
      },
    },
    stop: () => db.close(),
  };
  return warehouse;
}

/** Every accepted record is in exactly one place: delivered, failed to the error prefix, or visibly in flight. */
export function expectAccounted(stats: DeliveryStreamStats, settled = true): void {
  expect(stats.delivered + stats.failed + stats.inFlight).toBe(stats.recordsIn);
  expect(stats.inFlight).toBe(stats.buffered + stats.deliveringToS3 + stats.loadingToWarehouse + stats.writingErrorOutput);
  if (settled) expect(stats.inFlight).toBe(0);
}
