import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { GetJobRunsCommand, type GlueClient, type JobRun } from '@aws-sdk/client-glue';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DUMP_PREFIXES } from './job';

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
    const key = `${DUMP_PREFIXES.incoming}${basename(path)}`;
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
