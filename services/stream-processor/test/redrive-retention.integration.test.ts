import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, PurgeQueueCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { emulatorKinesisClient, writeEndpoints, type LocalStack } from '@invoice-pipeline/local-stack';
import { startKinesisFaultProxy, startTestStack, type KinesisFaultProxy } from '@invoice-pipeline/local-stack/testing';
import { S3_PREFIXES } from '@invoice-pipeline/transactions';
import type { KinesisStreamRecord } from 'aws-lambda';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { redriveFailureQueue, type FailureQueueReport } from '../src/redrive/redrive';

/**
 * Failure-queue messages that point past the stream's retention, on the local stack: kinesalite keeps every record, so a
 * fault proxy in front of it starts reads at a trim horizon, as Kinesis does once retention removed older records.
 * `pnpm redrive` must say which shard and sequence range it could not read and why, keep those messages in the queue
 * (and a copy in the archive bucket, which outlives the queue's 14 days), and still replay the batches it can read.
 */
describe('redrive of failure-queue batches past the stream retention', () => {
  let stack: LocalStack & { dir: string };
  let proxy: KinesisFaultProxy;
  let queueUrl: string;
  let archive: string;
  let streamArn: string;
  let shardId: string;
  let seq: string[];
  const invoked: string[][] = [];
  const invoke = async (event: { Records: KinesisStreamRecord[] }) => {
    invoked.push(event.Records.map((record) => record.kinesis.sequenceNumber));
    return { batchItemFailures: [] };
  };
  /** Lambda's on-failure record of a batch (metadata only). */
  const failure = (shard: string, start: string, end: string, batchSize: number) =>
    JSON.stringify({
      requestContext: { condition: 'RecordAgeExceeded', functionArn: 'arn:aws:lambda:eu-west-2:000000000000:function:processInvoices' },
      KinesisBatchInfo: { shardId: shard, startSequenceNumber: start, endSequenceNumber: end, batchSize, streamArn, approximateArrivalOfFirstRecord: '2026-12-01T10:00:00Z', approximateArrivalOfLastRecord: '2026-12-01T10:00:01Z' },
    });
  const send = (body: string) => stack.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  const visibleBodies = async () => {
    const { Messages = [] } = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
    return Messages.map((message) => message.Body ?? '').sort();
  };
  const keptCopies = async () => {
    const { Contents = [] } = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: archive, Prefix: S3_PREFIXES.failuresKept }));
    return Contents.map((object) => object.Key as string).sort();
  };

  beforeAll(async () => {
    stack = await startTestStack();
    proxy = await startKinesisFaultProxy({ target: stack.endpoints.kinesis });
    archive = stack.endpoints.outputs['stream-processor']?.ArchiveBucketName as string;
    streamArn = stack.endpoints.outputs.ingest?.StreamArn as string;
    const queueName = stack.endpoints.resources['stream-processor']?.FailureQueue?.name as string;
    queueUrl = (await stack.sqs.send(new GetQueueUrlCommand({ QueueName: queueName }))).QueueUrl as string;
    const put = await stack.clients.kinesis.send(
      new PutRecordsCommand({
        StreamName: stack.endpoints.outputs.ingest?.StreamName,
        Records: ['a', 'b', 'c', 'd'].map((name) => ({ Data: Buffer.from(JSON.stringify({ invoiceNo: `99000${name}` })), PartitionKey: 'one-shard' })),
      }),
    );
    shardId = put.Records?.[0]?.ShardId as string;
    seq = (put.Records ?? []).map((record) => record.SequenceNumber as string);
    // Retention has removed the first record of the shard.
    proxy.trimBefore(shardId, seq[1] as string);
  }, 300_000);

  afterAll(async () => {
    await proxy?.stop();
    await stack?.stop();
  }, 60_000);

  it('reports each unreadable batch by shard, sequence range and reason, keeps it, and still replays the readable one', async () => {
    const wholly = failure(shardId, seq[0] as string, seq[0] as string, 1);
    const partly = failure(shardId, seq[0] as string, seq[2] as string, 3);
    const shardGone = failure('shardId-000000000099', seq[0] as string, seq[0] as string, 1);
    const readable = failure(shardId, seq[1] as string, seq[3] as string, 3);
    for (const body of [wholly, partly, shardGone, readable, 'not an on-failure record']) await send(body);

    const kinesis = emulatorKinesisClient({ endpoint: proxy.url, region: stack.endpoints.region, credentials: stack.endpoints.credentials, maxAttempts: 1 });
    const run = (): Promise<FailureQueueReport> => redriveFailureQueue({ sqs: stack.sqs, queueUrl, kinesis, invoke, region: stack.endpoints.region, keepIn: { s3: stack.clients.s3, bucket: archive } });
    const report = await run();

    expect(report).toMatchObject({ batches: 5, records: 3, replayed: 3 });
    expect(invoked).toEqual([[seq[1], seq[2], seq[3]]]);
    const kept = (start: string, end: string, shard = shardId) => report.kept.find((k) => k.shardId === shard && k.startSequenceNumber === start && k.endSequenceNumber === end);
    expect(kept(seq[0] as string, seq[0] as string)).toMatchObject({ batchSize: 1, condition: 'RecordAgeExceeded', reason: expect.stringMatching(/^wholly past the stream's retention .*arrived from 2026-12-01T10:00:00Z.*no record from \d+ to \d+ is in the stream any more \(the shard now begins at \d+\); the records are in the raw archive/) });
    expect(kept(seq[0] as string, seq[2] as string)?.reason).toBe(
      `partly past the stream's retention (the batch arrived from 2026-12-01T10:00:00Z to 2026-12-01T10:00:01Z): records ${seq[0]} to before ${seq[1]} are gone, 2 later one(s) of the range are still in the stream; ` +
        'the records are in the raw archive (raw/dt=YYYY-MM-DD/ of their arrival day): replay them from there, then delete this message',
    );
    expect(kept(seq[0] as string, seq[0] as string, 'shardId-000000000099')?.reason).toMatch(/^shard shardId-000000000099 is no longer in the stream .*ResourceNotFoundException/);
    expect(report.kept.find((k) => k.shardId === '?')?.reason).toMatch(/not a Kinesis on-failure record/);
    expect(report.kept).toHaveLength(4);

    // Kept: visible in the queue again at once (its alarm stays on), and copied where nothing expires.
    expect(await visibleBodies()).toEqual([wholly, partly, shardGone, 'not an on-failure record'].sort());
    const copies = await keptCopies();
    expect(copies).toHaveLength(4);
    expect(copies).toContain(`${S3_PREFIXES.failuresKept}${shardId}/${seq[0]}-${seq[2]}.json`);
    for (const batch of report.kept) expect(batch.copy).toMatch(new RegExp(`^s3://${archive}/${S3_PREFIXES.failuresKept}`));
    const copy = JSON.parse(
      (await (await stack.clients.s3.send(new GetObjectCommand({ Bucket: archive, Key: `${S3_PREFIXES.failuresKept}${shardId}/${seq[0]}-${seq[2]}.json` }))).Body?.transformToString()) ?? '{}',
    ) as { message: string; reason: string };
    expect(copy).toMatchObject({ message: partly, reason: kept(seq[0] as string, seq[2] as string)?.reason });

    // Running again changes nothing: the same four are kept, their copies rewritten in place, nothing is replayed.
    const again = await run();
    expect(again).toMatchObject({ batches: 4, records: 0, replayed: 0 });
    expect(again.kept.map((k) => k.reason).sort()).toEqual(report.kept.map((k) => k.reason).sort());
    expect(await keptCopies()).toEqual(copies);
    expect(invoked).toHaveLength(1);
  }, 120_000);

  it('pnpm redrive prints the shard, the sequence range and why, exits 2, and leaves the message in the queue', async () => {
    await stack.sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
    const shardGone = failure('shardId-000000000099', seq[0] as string, seq[3] as string, 4);
    await send(shardGone);
    // The CLI reads endpoints.json; a readable batch would be invoked through the pipeline's Lambda endpoint (not needed here).
    const dir = await mkdtemp(join(tmpdir(), 'redrive-cli-'));
    try {
      await writeEndpoints(dir, { ...stack.endpoints, lambda: 'http://127.0.0.1:9' });
      const cli = resolve(__dirname, '../src/redrive/cli.ts');
      const tsx = resolve(__dirname, '../../../node_modules/.bin/tsx');
      const outcome = await promisify(execFile)(tsx, [cli, '--only', 'failures', '--dir', dir]).then(
        (done) => ({ code: 0, stdout: done.stdout }),
        (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
      );
      expect(outcome.code).toBe(2);
      expect(outcome.stdout).toContain('failure queue: 1 batch(es), 0 of 0 record(s) replayed, 1 kept for a person');
      expect(outcome.stdout).toContain(`KEPT shard shardId-000000000099, sequence ${seq[0]} to ${seq[3]} (4 record(s), RecordAgeExceeded)`);
      expect(outcome.stdout).toMatch(/why: shard shardId-000000000099 is no longer in the stream/);
      expect(outcome.stdout).toContain(`copy: s3://${archive}/${S3_PREFIXES.failuresKept}shardId-000000000099/${seq[0]}-${seq[3]}.json`);
      expect(await visibleBodies()).toEqual([shardGone]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
