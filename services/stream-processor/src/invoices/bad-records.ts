import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { S3_PREFIXES, type FieldProblem } from '@invoice-pipeline/transactions';

export interface BadRecord {
  reason: string;
  problems: FieldProblem[];
  /** Where the record sits in the stream, to find or replay it. */
  position: { streamArn: string; shardId: string; sequenceNumber: string; partitionKey: string; approximateArrivalTimestamp: number };
  /** The record's data exactly as received, base64. */
  data: string;
}

export interface BadRecordTarget {
  s3: Pick<S3Client, 'send'>;
  bucket: string;
  prefix?: string;
}

/** One object per bad record, keyed by its stream position: writing it again (a retried batch) overwrites it. */
export function badRecordKey(record: BadRecord, prefix: string = S3_PREFIXES.badRows): string {
  const day = new Date(record.position.approximateArrivalTimestamp * 1000).toISOString().slice(0, 10);
  return `${prefix}dt=${day}/${record.position.shardId}/${record.position.sequenceNumber}.json`;
}

export async function writeBadRecord(record: BadRecord, target: BadRecordTarget): Promise<string> {
  const Key = badRecordKey(record, target.prefix);
  await target.s3.send(new PutObjectCommand({ Bucket: target.bucket, Key, Body: JSON.stringify(record), ContentType: 'application/json' }));
  return Key;
}
