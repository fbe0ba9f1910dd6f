import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { GetJobRunsCommand, GlueClient, type JobRun } from '@aws-sdk/client-glue';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { S3_PREFIXES } from '@invoice-pipeline/transactions';
import type { BadRow } from '@invoice-pipeline/transactions/files';
import { BATCH_FILES_TOTALS_SQL, type BatchFilesTotals } from '@invoice-pipeline/warehouse';
import { rejectedKey } from './job';

export interface DumpDelivery {
  /** Local file. */
  path: string;
  /** Where it went: incoming/<file name>. */
  key: string;
  bytes: number;
  /** The Glue run that loaded it: SUCCEEDED, or FAILED with its error message (a refused header says why). */
  state: 'SUCCEEDED' | 'FAILED';
  runId: string;
  error?: string;
  seconds: number;
}

export interface DeliverDumpsOptions {
  s3: S3Client;
  glue: Pick<GlueClient, 'send'>;
  bucket: string;
  jobName: string;
  /** Files in the order they must load (dumps load in the order they were cut). */
  paths: readonly string[];
  /** How long to wait for the trigger to start a run for an upload. */
  startTimeoutMs?: number;
  onProgress?: (progress: { index: number; count: number; key: string; phase: 'uploading' | 'waiting' | 'loading'; seconds: number }) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The newest run of the job for this dump key started at or after `since`. */
async function runFor(glue: DeliverDumpsOptions['glue'], jobName: string, key: string, since: Date): Promise<JobRun | undefined> {
  let NextToken: string | undefined;
  do {
    const page = await glue.send(new GetJobRunsCommand({ JobName: jobName, NextToken }));
    const run = page.JobRuns?.find((r) => r.Arguments?.['--dump_key'] === key && (r.StartedOn?.getTime() ?? 0) >= since.getTime() - 1_000);
    if (run) return run;
    NextToken = page.NextToken;
  } while (NextToken);
  return undefined;
}

/**
 * Delivers dumps the way a store does: each file is uploaded to the dumps bucket's incoming/, where the bucket's
 * trigger starts the Glue job for it (S3 -> EventBridge -> startLoad -> job run); then waits for that run to end,
 * one file at a time so that files load in the order given.
 */
export async function deliverDumps(options: DeliverDumpsOptions): Promise<DumpDelivery[]> {
  const deliveries: DumpDelivery[] = [];
  for (const [index, path] of options.paths.entries()) {
    const key = `${S3_PREFIXES.incoming}${basename(path)}`;
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    const report = (phase: 'uploading' | 'waiting' | 'loading') => options.onProgress?.({ index, count: options.paths.length, key, phase, seconds: seconds() });
    report('uploading');
    const { size } = await stat(path);
    const since = new Date();
    await options.s3.send(new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: createReadStream(path), ContentLength: size }));
    report('waiting');
    let run: JobRun | undefined;
    for (;;) {
      run = await runFor(options.glue, options.jobName, key, since);
      if (run && run.JobRunState !== 'RUNNING' && run.JobRunState !== 'STARTING' && run.JobRunState !== 'WAITING') break;
      if (!run && seconds() * 1000 > (options.startTimeoutMs ?? 60_000)) {
        throw new Error(`no Glue run started for s3://${options.bucket}/${key} within ${Math.round(seconds())} s: is the local stack's dumps trigger running?`);
      }
      report(run ? 'loading' : 'waiting');
      await sleep(250);
    }
    deliveries.push({
      path,
      key,
      bytes: size,
      state: run.JobRunState === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED',
      runId: run.Id ?? '',
      error: run.ErrorMessage,
      seconds: seconds(),
    });
  }
  return deliveries;
}

/** What the warehouse holds of some dump files (their recorded loads, and their lines, invoices and revenue). */
export async function batchFilesTotals(warehouse: { query<T>(sql: string, params?: unknown[]): Promise<T[]> }, keys: readonly string[]): Promise<BatchFilesTotals> {
  const [totals] = await warehouse.query<BatchFilesTotals>(BATCH_FILES_TOTALS_SQL, [keys]);
  return totals ?? { files: 0, linesRecorded: 0, rejected: 0, lines: 0, invoices: 0, revenue: '0.000' };
}

/** The bad rows a load of this dump set aside (rejected/<name>.bad-rows.jsonl), none when there is no such object. */
export async function readRejectedRows(s3: S3Client, bucket: string, dumpKey: string): Promise<BadRow[]> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: rejectedKey(dumpKey, 'bad-rows.jsonl') }));
    const text = (await object.Body?.transformToString('utf8')) ?? '';
    return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as BadRow);
  } catch (error) {
    if (error instanceof NoSuchKey) return [];
    throw error;
  }
}

/** A Glue client on the local Glue's endpoint. */
export const localGlueClient = (config: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } }) => new GlueClient({ ...config, maxAttempts: 3 });
