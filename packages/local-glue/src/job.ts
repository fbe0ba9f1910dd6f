import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { S3_PREFIXES } from '@invoice-pipeline/transactions';
import type { BadRow } from '@invoice-pipeline/transactions/files';
import { DumpRefused } from './crawler';
import { loadDumpFile, type BatchWarehouse, type DumpLoadReport } from './load';

const withoutIncoming = (key: string) => (key.startsWith(S3_PREFIXES.incoming) ? key.slice(S3_PREFIXES.incoming.length) : key);

/** rejected/<key without incoming/>.<suffix>: a dump's bad rows (`bad-rows.jsonl`) or its refusal (`refused.json`). */
export const rejectedKey = (dumpKey: string, suffix: 'bad-rows.jsonl' | 'refused.json') => `${S3_PREFIXES.rejected}${withoutIncoming(dumpKey)}.${suffix}`;
export const processedKey = (dumpKey: string) => `${S3_PREFIXES.processed}${withoutIncoming(dumpKey)}`;

/** Bad rows as the job writes them: one JSON object a line (file, line, field, reason, raw). */
export const badRowLines = (rows: readonly BadRow[]) => rows.map((row) => `${JSON.stringify({ file: row.file, line: row.line, field: row.field, reason: row.reason, raw: row.raw })}\n`).join('');

export interface DumpJobOptions {
  s3: S3Client;
  /** The job's arguments, as glue/load_dump.py takes them. */
  bucket: string;
  key: string;
  storeId: string;
  warehouse: BatchWarehouse;
  /** Scratch folder for the dump's bytes (Glue reads from S3 directly; DuckDB reads a local file). */
  workDir: string;
  onProgress?: (staged: number, total: number) => void;
}

/**
 * The Glue job's run for one dump (glue/load_dump.py), offline: the header check (a refused file gets
 * rejected/<name>.refused.json and the run fails), the transform, bad rows to rejected/<name>.bad-rows.jsonl, staging
 * and the merge of exactly that file in one transaction, then the dump moves from incoming/ to processed/. A run that
 * fails leaves the dump in incoming/ and the warehouse as it was.
 */
export async function runDumpJob(options: DumpJobOptions): Promise<DumpLoadReport> {
  const { s3, bucket, key } = options;
  await mkdir(options.workDir, { recursive: true });
  const path = join(options.workDir, `${Date.now()}-${Math.random().toString(36).slice(2)}.dump`);
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!object.Body) throw new Error(`s3://${bucket}/${key}: no body`);
    await pipeline(object.Body as Readable, createWriteStream(path));
    let report: DumpLoadReport;
    try {
      report = await loadDumpFile({
        path,
        sourceFile: key,
        storeId: options.storeId,
        warehouse: options.warehouse,
        onProgress: options.onProgress,
        // Bad rows are set aside before the warehouse is touched, as the Spark job writes them before its COPY.
        onBadRows: async (badRows) => {
          if (badRows.length) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: rejectedKey(key, 'bad-rows.jsonl'), Body: badRowLines(badRows), ContentType: 'application/x-ndjson' }));
        },
      });
    } catch (error) {
      if (error instanceof DumpRefused) {
        const body = JSON.stringify({ file: key, reason: error.message });
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: rejectedKey(key, 'refused.json'), Body: body, ContentType: 'application/json' }));
      }
      throw error;
    }
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: processedKey(key), CopySource: `${bucket}/${encodeURIComponent(key).replaceAll('%2F', '/')}` }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    return report;
  } finally {
    await rm(path, { force: true });
  }
}
