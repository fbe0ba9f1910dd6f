import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
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
 *   range and handed to processInvoices; the message is deleted once every record is processed;
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
  KinesisBatchInfo: { shardId: string; startSequenceNumber: string; endSequenceNumber: string; batchSize: number; streamArn: string };
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

/** The records of a failed batch, re-read from the stream; undefined when the stream no longer holds its first one. */
export async function readBatchRecords(kinesis: Pick<KinesisClient, 'send'>, info: KinesisFailureRecord['KinesisBatchInfo'], region: string): Promise<KinesisStreamRecord[] | undefined> {
  const { ShardIterator } = await kinesis.send(
    new GetShardIteratorCommand({ StreamName: streamNameOf(info.streamArn), ShardId: info.shardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: info.startSequenceNumber }),
  );
  const end = BigInt(info.endSequenceNumber);
  const records: KinesisStreamRecord[] = [];
  let iterator = ShardIterator;
  while (iterator) {
    const reply = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1_000 }));
    for (const record of reply.Records ?? []) {
      if (BigInt(record.SequenceNumber ?? '0') > end) return records;
      const position = { streamArn: info.streamArn, shardId: info.shardId, sequenceNumber: record.SequenceNumber ?? '', partitionKey: record.PartitionKey ?? '', approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp?.getTime() ?? 0) / 1000 };
      records.push(streamEventRecord(position, Buffer.from(record.Data ?? new Uint8Array()).toString('base64'), region));
    }
    if (!reply.Records?.length && !reply.MillisBehindLatest) break;
    iterator = reply.NextShardIterator;
  }
  if (records[0]?.kinesis.sequenceNumber !== info.startSequenceNumber) return undefined;
  return records;
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

export interface FailureQueueReport {
  batches: number;
  records: number;
  replayed: number;
  /** Batches kept in the queue: no longer in the stream, or still failing. */
  kept: Array<{ shardId: string; startSequenceNumber: string; reason: string }>;
}

export async function redriveFailureQueue(options: { sqs: Pick<SQSClient, 'send'>; queueUrl: string; kinesis: Pick<KinesisClient, 'send'>; invoke: InvokeProcessor; region: string }): Promise<FailureQueueReport> {
  const report: FailureQueueReport = { batches: 0, records: 0, replayed: 0, kept: [] };
  for (;;) {
    // Each message stays invisible for the run: a kept one is not seen twice, and comes back for the next run.
    const { Messages = [] } = await options.sqs.send(new ReceiveMessageCommand({ QueueUrl: options.queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 900 }));
    if (Messages.length === 0) return report;
    for (const message of Messages) {
      report.batches += 1;
      const failure = parseFailureRecord(message.Body ?? '');
      if (!failure) {
        report.kept.push({ shardId: '?', startSequenceNumber: '?', reason: 'not a Kinesis on-failure record' });
        continue;
      }
      const info = failure.KinesisBatchInfo;
      const records = await readBatchRecords(options.kinesis, info, options.region);
      if (!records) {
        report.kept.push({ shardId: info.shardId, startSequenceNumber: info.startSequenceNumber, reason: 'no longer in the stream (past its retention): see the raw archive' });
        continue;
      }
      report.records += records.length;
      if (!(await processAll(options.invoke, records))) {
        report.kept.push({ shardId: info.shardId, startSequenceNumber: info.startSequenceNumber, reason: 'the processor still reports failures' });
        continue;
      }
      report.replayed += records.length;
      await options.sqs.send(new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
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
