import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKinesisFaultProxy, type KinesisFaultProxy } from './kinesis-faults';
import { startLocalPipeline, type LocalPipeline, type PipelineOptions } from './pipeline';
import { FREE_PORTS, startStack, type LocalStack, type StackOptions } from './stack';

// `@invoice-pipeline/local-stack/testing`: starters for integration tests (test code only).
export { startKinesisFaultProxy, type KinesisFaultProxy, type KinesisFaultStats, type KinesisThrottleRule } from './kinesis-faults';
export {
  startTestKinesis,
  startTestS3,
  startUnprocessedItemsProxy,
  type TestKinesis,
  type TestS3,
  type UnprocessedItemsProxy,
  type WireWriteRequest,
} from '@invoice-pipeline/local-emulators/testing';

/** What `start` started, whose stop also runs `cleanup` (which runs at once if starting fails). */
async function withCleanup<T extends { stop(): Promise<void> }>(start: () => Promise<T>, cleanup: () => Promise<unknown>): Promise<T> {
  try {
    const started = await start();
    return {
      ...started,
      stop: async () => {
        try {
          await started.stop();
        } finally {
          await cleanup();
        }
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** A temporary state folder for `start`, removed when what it started stops (or fails to start). */
async function inTemporaryDir<T extends { stop(): Promise<void> }>(start: (dir: string) => Promise<T>): Promise<T & { dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'invoice-stack-'));
  return { ...(await withCleanup(() => start(dir), () => rm(dir, { recursive: true, force: true }))), dir };
}

/**
 * The whole offline pipeline for an end-to-end test (the local stack, both services under serverless-offline behind
 * one API URL, the Kinesis event source), isolated like startTestStack: `pipeline.api` has the URL and the run's keys.
 */
export function startTestPipeline(options: Partial<PipelineOptions> = {}): Promise<LocalPipeline & { dir: string }> {
  return inTemporaryDir((dir) => startLocalPipeline({ dir, fresh: true, ports: FREE_PORTS, firehoseBufferSeconds: 1, mergeIntervalMs: 500, ...options }));
}

/**
 * The pipeline of startTestPipeline with a Kinesis that throttles: ingest writes through a fault proxy
 * (`kinesisFaults.throttle(...)`); the stream processor and Firehose read the stream directly. Stops the proxy too.
 */
export async function startThrottlingTestPipeline(options: Partial<PipelineOptions> = {}): Promise<LocalPipeline & { dir: string; kinesisFaults: KinesisFaultProxy }> {
  const kinesisFaults = await startKinesisFaultProxy();
  const pipeline = await withCleanup(
    () =>
      startTestPipeline({
        ...options,
        ingestKinesisEndpoint: (streamEndpoint) => {
          kinesisFaults.target = streamEndpoint;
          return kinesisFaults.url;
        },
      }),
    () => kinesisFaults.stop(),
  );
  return { ...pipeline, kinesisFaults };
}

/**
 * An isolated stack for an integration test: free ports, a temporary folder, and a stop that always runs and
 * removes the folder. Use in beforeAll/afterAll:
 *   const stack = await startTestStack(); … await stack.stop();
 */
export function startTestStack(options: Partial<StackOptions> = {}): Promise<LocalStack & { dir: string }> {
  return inTemporaryDir((dir) => startStack({ dir, fresh: true, ports: FREE_PORTS, firehoseBufferSeconds: 1, mergeIntervalMs: 500, ...options }));
}
