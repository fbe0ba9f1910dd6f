import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalPipeline, type LocalPipeline } from './pipeline';
import { FREE_PORTS, startStack, type LocalStack, type StackOptions } from './stack';

// `@invoice-pipeline/local-stack/testing`: starters for integration tests (test code only).
export {
  startTestKinesis,
  startTestS3,
  startUnprocessedItemsProxy,
  type TestKinesis,
  type TestS3,
  type UnprocessedItemsProxy,
  type WireWriteRequest,
} from '@invoice-pipeline/local-emulators/testing';

/** A temporary state folder for `start`, removed when what it started stops (or fails to start). */
async function inTemporaryDir<T extends { stop(): Promise<void> }>(start: (dir: string) => Promise<T>): Promise<T & { dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'invoice-stack-'));
  try {
    const started = await start(dir);
    return {
      ...started,
      dir,
      stop: async () => {
        try {
          await started.stop();
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The whole offline pipeline for an end-to-end test (the local stack, both services under serverless-offline behind
 * one API URL, the Kinesis event source), isolated like startTestStack: `pipeline.api` has the URL and the run's keys.
 */
export function startTestPipeline(options: Partial<StackOptions> = {}): Promise<LocalPipeline & { dir: string }> {
  return inTemporaryDir((dir) => startLocalPipeline({ dir, fresh: true, ports: FREE_PORTS, firehoseBufferSeconds: 1, mergeIntervalMs: 500, ...options }));
}

/**
 * An isolated stack for an integration test: free ports, a temporary folder, and a stop that always runs and
 * removes the folder. Use in beforeAll/afterAll:
 *   const stack = await startTestStack(); … await stack.stop();
 */
export function startTestStack(options: Partial<StackOptions> = {}): Promise<LocalStack & { dir: string }> {
  return inTemporaryDir((dir) => startStack({ dir, fresh: true, ports: FREE_PORTS, firehoseBufferSeconds: 1, mergeIntervalMs: 500, ...options }));
}
