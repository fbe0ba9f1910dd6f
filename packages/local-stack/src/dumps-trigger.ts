import { GlueClient } from '@aws-sdk/client-glue';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { startDumpLoad, type ObjectCreatedEvent, type StartLoadResult } from '@invoice-pipeline/batch-loader/start-load';
import type { ServiceDefinition } from './service-definitions';

/** An EventBridge event pattern: field -> allowed values (literals or `{ prefix }`), nested for objects. */
type EventPattern = { [field: string]: EventPattern | Array<string | number | { prefix: string }> };

/** Whether an event matches a pattern (the subset of EventBridge's matching the services' rules use). */
export function matchesEventPattern(pattern: EventPattern, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([field, expected]) => {
    const value = event[field];
    if (!Array.isArray(expected)) return value !== null && typeof value === 'object' && matchesEventPattern(expected, value as Record<string, unknown>);
    return expected.some((allowed) => (typeof allowed === 'object' ? typeof value === 'string' && value.startsWith(allowed.prefix) : value === allowed));
  });
}

interface StartLoadFunction {
  environment?: Record<string, string>;
  events?: Array<{ eventBridge?: { pattern?: EventPattern } }>;
}

export interface DumpsTriggerOptions {
  s3: S3Client;
  /** The batch loader's resolved definition: its startLoad function (rule pattern, environment) and dumps bucket. */
  definition: ServiceDefinition;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  glueEndpoint: string;
  pollIntervalMs?: number;
  log?: (message: string) => void;
}

export interface DumpsTrigger {
  /** Every startLoad result so far (a started run, or an object ignored and why). */
  results: StartLoadResult[];
  /** Lists the bucket now and hands new objects to the rule (also runs on a timer). */
  poll(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * S3 → EventBridge → startLoad, offline. The dumps bucket sends "Object Created" events to EventBridge
 * (EventBridgeEnabled); startLoad's rule matches them and the function starts the Glue job for the file. s3rver has no
 * EventBridge, so new objects are found by listing the bucket (every pollIntervalMs), each becomes the event S3 would
 * send, the rule's own pattern from serverless.yml filters it, and startLoad's own code (startDumpLoad) runs with a Glue
 * client on the local Glue. Objects already there when the trigger starts send no event, as in AWS.
 */
export async function startDumpsTrigger(options: DumpsTriggerOptions): Promise<DumpsTrigger> {
  const log = options.log ?? (() => undefined);
  const startLoad = (options.definition.config.functions as Record<string, StartLoadFunction> | undefined)?.startLoad;
  const pattern = startLoad?.events?.find((event) => event.eventBridge?.pattern)?.eventBridge?.pattern;
  const environment = startLoad?.environment ?? {};
  const bucket = environment.DUMPS_BUCKET;
  const jobName = environment.GLUE_JOB_NAME;
  if (!pattern || !bucket || !jobName) throw new Error(`${options.definition.key}: startLoad has no eventBridge rule, DUMPS_BUCKET or GLUE_JOB_NAME`);
  const glue = new GlueClient({ region: options.region, credentials: options.credentials, endpoint: options.glueEndpoint, maxAttempts: 1 });

  const seen = new Set<string>();
  const results: StartLoadResult[] = [];
  const identity = (object: { Key?: string; ETag?: string; LastModified?: Date }) => `${object.Key}\u0000${object.ETag}\u0000${object.LastModified?.getTime()}`;

  async function listObjects() {
    const objects: Array<{ Key?: string; ETag?: string; LastModified?: Date; Size?: number }> = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await options.s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken }));
      objects.push(...(page.Contents ?? []));
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return objects;
  }

  let polling: Promise<void> = Promise.resolve();
  const pollOnce = async () => {
    for (const object of await listObjects()) {
      const id = identity(object);
      if (seen.has(id)) continue;
      seen.add(id);
      // S3's event carries the key URL-encoded, as startLoad expects.
      const event: ObjectCreatedEvent & { source: string } = {
        source: 'aws.s3',
        'detail-type': 'Object Created',
        detail: { bucket: { name: bucket as string }, object: { key: encodeURIComponent(object.Key ?? '').replaceAll('%2F', '/'), size: object.Size, etag: object.ETag } },
      };
      if (!matchesEventPattern(pattern, event as unknown as Record<string, unknown>)) continue;
      try {
        const result = await startDumpLoad(event, { glue, jobName: jobName as string, dumpsBucket: bucket as string });
        results.push(result);
        log(result.started ? `startLoad: ${result.key} -> Glue run ${result.jobRunId}` : `startLoad: ${result.key} ignored: ${result.reason}`);
      } catch (error) {
        // Lambda would retry, then send the event to the failure queue: locally it is logged and tried on the next listing.
        seen.delete(id);
        log(`startLoad failed for ${object.Key}, will retry: ${(error as Error).message}`);
      }
    }
  };
  const poll = () => (polling = polling.then(pollOnce, pollOnce));

  for (const object of await listObjects()) seen.add(identity(object));
  const timer = setInterval(() => void poll().catch((error: Error) => log(`listing the dumps bucket failed: ${error.message}`)), options.pollIntervalMs ?? 500);
  return {
    results,
    poll,
    stop: async () => {
      clearInterval(timer);
      await polling.catch(() => undefined);
      glue.destroy();
    },
  };
}
