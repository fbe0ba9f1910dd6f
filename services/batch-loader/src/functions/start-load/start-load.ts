import { StartJobRunCommand, type GlueClient } from '@aws-sdk/client-glue';
import { S3_PREFIXES } from '@invoice-pipeline/transactions';

/** The part of an EventBridge "Object Created" event from S3 the loader reads. */
export interface ObjectCreatedEvent {
  'detail-type': string;
  detail: { bucket: { name: string }; object: { key: string; size?: number; etag?: string; 'version-id'?: string } };
}

export interface StartLoadDependencies {
  glue: Pick<GlueClient, 'send'>;
  jobName: string;
  dumpsBucket: string;
}

/** Dumps are loaded from this prefix; processed/ and rejected/ are written by the job itself. */
const INCOMING_PREFIX = S3_PREFIXES.incoming;

export type StartLoadResult = { started: true; jobRunId: string; key: string } | { started: false; key: string; reason: string };

/**
 * Starts the Glue job for exactly the file that arrived. Each dump is its own job run (two dumps arriving together
 * are two runs; the warehouse merge serialises them), and a re-upload is simply loaded again: the job's merge makes
 * that change nothing. Errors propagate so Lambda retries the event and, at the end, sends it to the failure queue.
 */
export async function startDumpLoad(event: ObjectCreatedEvent, deps: StartLoadDependencies): Promise<StartLoadResult> {
  // S3 event keys are URL-encoded (a space arrives as "+").
  const key = decodeURIComponent(event.detail.object.key.replace(/\+/g, ' '));
  if (event.detail.bucket.name !== deps.dumpsBucket) return { started: false, key, reason: `not the dumps bucket: ${event.detail.bucket.name}` };
  if (!key.startsWith(INCOMING_PREFIX) || key.endsWith('/')) return { started: false, key, reason: `not a dump under ${INCOMING_PREFIX}` };
  if (event.detail.object.size === 0) return { started: false, key, reason: 'empty object' };
  const { JobRunId } = await deps.glue.send(new StartJobRunCommand({ JobName: deps.jobName, Arguments: { '--dump_key': key } }));
  if (!JobRunId) throw new Error(`Glue returned no run id for ${key}`);
  return { started: true, jobRunId: JobRunId, key };
}
