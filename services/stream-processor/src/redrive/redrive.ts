import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { HEADER_SK, invoiceKey, recordVersion, S3_PREFIXES } from '@invoice-pipeline/transactions';
import type { KinesisStreamRecord } from 'aws-lambda';
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { BadRecord } from '../invoices/bad-records';
import { decodeInvoiceRecord } from '../invoices/decode';
import { sendToWarehouse, type WarehouseStreamTarget } from '../invoices/send-warehouse';

/**
 * Replays what the pipeline set aside back through it. Safe to run again: a record is landed with its original
 * version (its sequence number), so the identity rule and record versions make a replay change nothing that landed.
 * - failure-queue batches (Lambda's on-failure records: metadata only) are re-read from the stream by their sequence
 *   range and handed to processInvoices; the message is deleted once every record is processed; a batch the stream no
 *   longer holds (past its retention) is reported with its shard, range and reason, kept in the queue and copied to
 *   `failures-kept/`;
 * - bad rows (`bad-rows/`) that now pass the schema (fixed in place, or valid under today's rules) are handed to
 *   processInvoices at their stream position; the object is deleted once the invoice is in DynamoDB at that version
 *   or newer (a row refused again is rewritten by the processor with its new reason and stays);
 * - Firehose error output (`firehose-errors/`): warehouse rows (error records or the staged files a failed-load
 *   manifest names) are sent to the warehouse delivery stream again; raw-archive records are written to `raw/`.
 */

/** processInvoices: the deployed function (Lambda Invoke), the local one, or the handler in a test. */
export type InvokeProcessor = (event: { Records: KinesisStreamRecord[] }) => Promise<{ batchItemFailures?: Array<{ itemIdentifier: string }> }>;

/** The on-failure record Lambda sends for a Kinesis batch (the part a replay needs). */
export interface KinesisFailureRecord {
  requestContext?: { condition?: string };
  KinesisBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    batchSize: number;
    streamArn: string;
    approximateArrivalOfFirstRecord?: string;
    approximateArrivalOfLastRecord?: string;
  };
}

export function parseFailureRecord(body: string): KinesisFailureRecord | undefined {
  try {
    const record = JSON.parse(body) as Partial<KinesisFailureRecord>;
    const info = record.KinesisBatchInfo;
    return info && typeof info.shardId === 'string' && typeof info.startSequenceNumber === 'string' && typeof info.endSequenceNumber === 'string' && typeof info.streamArn === 'string'
      ? (record as KinesisFailureRecord)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A stream record as Lambda hands it to the function. */
export function streamEventRecord(position: BadRecord['position'], data: string, region: string): KinesisStreamRecord {
  return {
    kinesis: { kinesisSchemaVersion: '1.0', partitionKey: position.partitionKey, sequenceNumber: position.sequenceNumber, data, approximateArrivalTimestamp: position.approximateArrivalTimestamp },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${position.shardId}:${position.sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'redrive',
    awsRegion: region,
    eventSourceARN: position.streamArn,
  };
}

const streamNameOf = (streamArn: string) => streamArn.split(':stream/').pop() ?? streamArn;

/** A failed batch read back from the stream, or why it cannot be: the part of its range the stream no longer holds. */
export type BatchRead =
  | { ok: true; records: KinesisStreamRecord[] }
  | {
      ok: false;
      /** Why, for a person: which records are gone and what the stream said. */
      reason: string;
      /** The oldest record the shard still holds at or after the range's start, if any. */
      firstAvailable?: string;
      /** Records of the range the stream still holds (a partly trimmed range); they are not replayed alone. */
      stillInStream: number;
    };

const errorName = (error: unknown) => (error instanceof Error ? error.name : 'Error');
const RECOVER = 'the records are in the raw archive (raw/dt=YYYY-MM-DD/ of their arrival day): replay them from there, then delete this message';

/**
 * The records of a failed batch, re-read from the stream by its sequence range. When the stream no longer holds all of
 * them (past its retention: Kinesis starts the read at the trim horizon, or the shard itself is gone after a reshard),
 * says which part of the range is missing and why, never throws for that.
 */
export async function readBatch(kinesis: Pick<KinesisClient, 'send'>, info: KinesisFailureRecord['KinesisBatchInfo'], region: string): Promise<BatchRead> {
  let ShardIterator: string | undefined;
  try {
    ({ ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({ StreamName: streamNameOf(info.streamArn), ShardId: info.shardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: info.startSequenceNumber }),
    ));
  } catch (error) {
    const name = errorName(error);
    if (name !== 'ResourceNotFoundException' && name !== 'InvalidArgumentException') throw error;
    const what =
      name === 'ResourceNotFoundException'
        ? `shard ${info.shardId} is no longer in the stream (closed by a reshard and past the retention, or the stream was replaced)`
        : `the stream refuses to start a read at ${info.startSequenceNumber} on ${info.shardId} (past the retention, or not from this shard)`;
    return { ok: false, reason: `${what}: ${name}: ${(error as Error).message}; ${RECOVER}`, stillInStream: 0 };
  }
  const start = BigInt(info.startSequenceNumber);
  const end = BigInt(info.endSequenceNumber);
  const records: KinesisStreamRecord[] = [];
  let firstAvailable: string | undefined;
  let iterator = ShardIterator;
  while (iterator) {
    const reply = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1_000 }));
    for (const record of reply.Records ?? []) {
      const sequenceNumber = record.SequenceNumber ?? '0';
      firstAvailable ??= sequenceNumber;
      if (BigInt(sequenceNumber) > end) break;
      const position = { streamArn: info.streamArn, shardId: info.shardId, sequenceNumber, partitionKey: record.PartitionKey ?? '', approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp?.getTime() ?? 0) / 1000 };
      records.push(streamEventRecord(position, Buffer.from(record.Data ?? new Uint8Array()).toString('base64'), region));
    }
    const last = reply.Records?.at(-1)?.SequenceNumber;
    if (last !== undefined && BigInt(last) > end) break;
    if (!reply.Records?.length && !reply.MillisBehindLatest) break;
    iterator = reply.NextShardIterator;
  }
  if (records[0]?.kinesis.sequenceNumber === info.startSequenceNumber) return { ok: true, records };
  // The read began after the start: retention removed the records before the shard's trim horizon.
  const arrived = info.approximateArrivalOfFirstRecord ? ` (the batch arrived from ${info.approximateArrivalOfFirstRecord} to ${info.approximateArrivalOfLastRecord ?? '?'})` : '';
  const gone =
    records.length > 0
      ? `partly past the stream's retention${arrived}: records ${info.startSequenceNumber} to before ${records[0]?.kinesis.sequenceNumber} are gone, ${records.length} later one(s) of the range are still in the stream`
      : `wholly past the stream's retention${arrived}: no record from ${info.startSequenceNumber} to ${info.endSequenceNumber} is in the stream any more${firstAvailable && BigInt(firstAvailable) > start ? ` (the shard now begins at ${firstAvailable})` : ''}`;
  return { ok: false, reason: `${gone}; ${RECOVER}`, firstAvailable, stillInStream: records.length };
}

/** Hands records to the processor until none is reported failed (resuming from the first failure, as Lambda does). */
async function processAll(invoke: InvokeProcessor, records: KinesisStreamRecord[], attempts = 3): Promise<boolean> {
  let pending = records;
  for (let attempt = 0; attempt < attempts && pending.length; attempt += 1) {
    const failures = (await invoke({ Records: pending })).batchItemFailures ?? [];
    const first = pending.findIndex((r) => failures.some((f) => f.itemIdentifier === r.kinesis.sequenceNumber));
    pending = first < 0 ? [] : pending.slice(first);
  }
  return pending.length === 0;
}

/** A failure-queue batch left for a person: where it was in the stream, and why it could not be replayed. */
export interface KeptBatch {
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
  batchSize?: number;
  condition?: string;
  reason: string;
  /** Where its copy is kept (s3://bucket/failures-kept/...), when the run keeps copies. */
  copy?: string;
}

export interface FailureQueueReport {
  batches: number;
  records: number;
  replayed: number;
  /** Batches kept in the queue (visible again at once) and copied: no longer (all) in the stream, or still failing. */
  kept: KeptBatch[];
}

/**
 * Replays the failure queue. A batch that cannot be replayed is never dropped: its message stays in the queue (made
 * visible again when the run ends, so the queue's alarm stays on and the next run or a person finds it) and, with
 * `keepIn`, a copy with the reason is written to `failures-kept/` of the archive bucket, which never expires (the
 * queue itself drops a message after its 14-day retention).
 */
export async function redriveFailureQueue(options: {
  sqs: Pick<SQSClient, 'send'>;
  queueUrl: string;
  kinesis: Pick<KinesisClient, 'send'>;
  invoke: InvokeProcessor;
  region: string;
  keepIn?: { s3: Pick<S3Client, 'send'>; bucket: string };
}): Promise<FailureQueueReport> {
  const report: FailureQueueReport = { batches: 0, records: 0, replayed: 0, kept: [] };
  const keptReceipts: string[] = [];
  const keep = async (message: { Body?: string; ReceiptHandle?: string; MessageId?: string }, kept: KeptBatch) => {
    if (options.keepIn) {
      const key = `${S3_PREFIXES.failuresKept}${kept.shardId === '?' ? `unreadable/${message.MessageId ?? 'message'}` : `${kept.shardId}/${kept.startSequenceNumber}-${kept.endSequenceNumber}`}.json`;
      const body = JSON.stringify({ keptAt: new Date().toISOString(), queueUrl: options.queueUrl, reason: kept.reason, message: message.Body ?? '' }, null, 2);
      await options.keepIn.s3.send(new PutObjectCommand({ Bucket: options.keepIn.bucket, Key: key, Body: body, ContentType: 'application/json' }));
      kept.copy = `s3://${options.keepIn.bucket}/${key}`;
    }
    report.kept.push(kept);
    if (message.ReceiptHandle) keptReceipts.push(message.ReceiptHandle);
  };
  try {
    for (;;) {
      // Each message stays invisible for the run: a kept one is not seen twice in it.
      const { Messages = [] } = await options.sqs.send(new ReceiveMessageCommand({ QueueUrl: options.queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 900 }));
      if (Messages.length === 0) return report;
      for (const message of Messages) {
        report.batches += 1;
        const failure = parseFailureRecord(message.Body ?? '');
        if (!failure) {
          await keep(message, { shardId: '?', startSequenceNumber: '?', endSequenceNumber: '?', reason: 'not a Kinesis on-failure record: read the message yourself' });
          continue;
        }
        const info = failure.KinesisBatchInfo;
        const where = { shardId: info.shardId, startSequenceNumber: info.startSequenceNumber, endSequenceNumber: info.endSequenceNumber, batchSize: info.batchSize, condition: failure.requestContext?.condition };
        const read = await readBatch(options.kinesis, info, options.region);
        if (!read.ok) {
          await keep(message, { ...where, reason: read.reason });
          continue;
        }
        report.records += read.records.length;
        if (!(await processAll(options.invoke, read.records))) {
          await keep(message, { ...where, reason: 'the processor still reports failures for some of its records: see its logs, fix, and run again' });
          continue;
        }
        report.replayed += read.records.length;
        await options.sqs.send(new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: message.ReceiptHandle }));
      }
    }
  } finally {
    // Kept messages are visible again at once: the queue's depth (and its alarm) shows them until a person acts.
    for (const ReceiptHandle of keptReceipts) await options.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: options.queueUrl, ReceiptHandle, VisibilityTimeout: 0 }));
  }
}

async function listKeys(s3: Pick<S3Client, 'send'>, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }));
    keys.push(...(page.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : [])));
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  return keys;
}

async function readObject(s3: Pick<S3Client, 'send'>, bucket: string, key: string): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = Buffer.from((await object.Body?.transformToByteArray()) ?? new Uint8Array());
  return bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
}

export interface BadRowsReport {
  rows: number;
  replayed: number;
  /** Still not a valid invoice: fix the object's `data` (base64 of the record) and run again. */
  stillInvalid: string[];
  /** Valid, but refused again by a sink: the object now holds the new reason. */
  refusedAgain: string[];
}

export async function redriveBadRows(options: {
  s3: Pick<S3Client, 'send'>;
  bucket: string;
  table: { dynamodb: Pick<DynamoDBDocumentClient, 'send'>; tableName: string };
  invoke: InvokeProcessor;
  region: string;
  keep?: boolean;
}): Promise<BadRowsReport> {
  const report: BadRowsReport = { rows: 0, replayed: 0, stillInvalid: [], refusedAgain: [] };
  for (const key of await listKeys(options.s3, options.bucket, S3_PREFIXES.badRows)) {
    report.rows += 1;
    const row = JSON.parse((await readObject(options.s3, options.bucket, key)).toString('utf8')) as BadRecord;
    const decoded = decodeInvoiceRecord(row.data);
    if (!decoded.ok) {
      report.stillInvalid.push(key);
      continue;
    }
    await processAll(options.invoke, [streamEventRecord(row.position, row.data, options.region)]);
    // Landed when DynamoDB holds this store's invoice at this version or a newer one (a newer version rightly wins;
    // another store's invoice under the number means this one was refused again).
    const { Items: [header] = [] } = await options.table.dynamodb.send(
      new QueryCommand({ TableName: options.table.tableName, KeyConditionExpression: 'pk = :pk AND sk = :sk', ExpressionAttributeValues: { ':pk': invoiceKey(decoded.invoice.invoiceNo), ':sk': HEADER_SK }, ConsistentRead: true }),
    );
    const landed = typeof header?.version === 'string' && header.version >= recordVersion(row.position.sequenceNumber) && header.storeId === decoded.invoice.storeId;
    if (!landed) {
      report.refusedAgain.push(key);
      continue;
    }
    report.replayed += 1;
    if (!options.keep) await options.s3.send(new DeleteObjectCommand({ Bucket: options.bucket, Key: key }));
  }
  return report;
}

/** Error records of Firehose (one JSON object a line, `rawData` base64) or a failed-load manifest's staged files. */
async function errorOutputData(s3: Pick<S3Client, 'send'>, bucket: string, key: string): Promise<Buffer[]> {
  const text = (await readObject(s3, bucket, key)).toString('utf8');
  const manifest = (() => {
    try {
      return JSON.parse(text) as { entries?: Array<{ url: string }> };
    } catch {
      return undefined;
    }
  })();
  if (manifest?.entries) {
    return Promise.all(
      manifest.entries.map(({ url }) => {
        const [, staged, ...path] = url.replace(/^s3:\/\//, '/').split('/');
        return readObject(s3, staged as string, path.join('/'));
      }),
    );
  }
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => Buffer.from((JSON.parse(line) as { rawData: string }).rawData, 'base64'));
}

/** NDJSON chunks cut into records of at most 1,000 KiB on line boundaries (a Firehose record's limit). */
function ndjsonRecords(chunks: Buffer[]): Buffer[] {
  const records: Buffer[] = [];
  let current = '';
  for (const line of chunks.map((c) => c.toString('utf8')).join('\n').split('\n')) {
    if (!line.trim()) continue;
    if (current && Buffer.byteLength(current) + Buffer.byteLength(line) + 1 > 1_000 * 1024) {
      records.push(Buffer.from(current));
      current = '';
    }
    current += `${line}\n`;
  }
  if (current) records.push(Buffer.from(current));
  return records;
}

export interface FirehoseErrorsReport {
  objects: number;
  warehouseRecords: number;
  rawRecords: number;
}

/**
 * Firehose's error output. Warehouse rows go back to the warehouse delivery stream (rows carry their record version,
 * so the merge keeps one row per line whatever is sent twice); raw-archive records (a Kinesis-sourced stream takes no
 * PutRecordBatch) are written to `raw/` as Firehose would have, gzip.
 */
export async function redriveFirehoseErrors(options: {
  s3: Pick<S3Client, 'send'>;
  warehouse?: { bucket: string; prefix?: string; target: WarehouseStreamTarget };
  raw?: { bucket: string; prefix?: string };
  keep?: boolean;
}): Promise<FirehoseErrorsReport> {
  const report: FirehoseErrorsReport = { objects: 0, warehouseRecords: 0, rawRecords: 0 };
  if (options.warehouse) {
    const { bucket, target } = options.warehouse;
    for (const key of await listKeys(options.s3, bucket, options.warehouse.prefix ?? `${S3_PREFIXES.firehoseErrors}warehouse/`)) {
      const records = ndjsonRecords(await errorOutputData(options.s3, bucket, key));
      await sendToWarehouse(records, target);
      report.objects += 1;
      report.warehouseRecords += records.length;
      if (!options.keep) await options.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    }
  }
  if (options.raw) {
    const { bucket } = options.raw;
    for (const key of await listKeys(options.s3, bucket, options.raw.prefix ?? `${S3_PREFIXES.firehoseErrors}raw/`)) {
      const data = await errorOutputData(options.s3, bucket, key);
      // One object per error object, named after it: replaying it again overwrites, never adds.
      const name = createHash('sha256').update(key).digest('hex').slice(0, 16);
      const day = new Date().toISOString().slice(0, 10);
      await options.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${S3_PREFIXES.raw}dt=${day}/redriven-${name}.gz`, Body: gzipSync(Buffer.concat(data)) }));
      report.objects += 1;
      report.rawRecords += data.length;
      if (!options.keep) await options.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    }
  }
  return report;
}
