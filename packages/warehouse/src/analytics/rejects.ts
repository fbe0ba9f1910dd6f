import { S3_PREFIXES } from '@invoice-pipeline/transactions';
import type { PipelineReject } from './run';

/** An object in a bucket listing. */
export interface ListedObject {
  key: string;
  lastModified: Date;
}

/** Where the pipeline sets rows aside, in S3. */
export const REJECT_PREFIXES = {
  /** The stream processor: one JSON object per invalid record, s3://<archive>/bad-rows/dt=YYYY-MM-DD/<shard>/<seq>.json. */
  badRows: S3_PREFIXES.badRows,
  /** The batch loader: files of rejected dump rows, one JSON line per row, s3://<dumps>/rejected/…. */
  dumpRows: S3_PREFIXES.rejected,
} as const;

const DAY_IN_KEY = /(?:^|\/)dt=(\d{4}-\d{2}-\d{2})\//;

/** The day an object was set aside: its dt= partition, else the day it was written (UTC). */
export function rejectedOn(object: ListedObject): string {
  return DAY_IN_KEY.exec(object.key)?.[1] ?? object.lastModified.toISOString().slice(0, 10);
}

export function badRowReject(object: ListedObject): PipelineReject {
  return { source: 'bad-row', objectKey: object.key, rejectedOn: rejectedOn(object), rowCount: 1 };
}

/** A file of rejected dump rows counts its non-empty lines. */
export function dumpRowsReject(object: ListedObject, text: string): PipelineReject {
  const rowCount = text.split('\n').filter((line) => line.trim() !== '').length;
  return { source: 'dump-row', objectKey: object.key, rejectedOn: rejectedOn(object), rowCount };
}
