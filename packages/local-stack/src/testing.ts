import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, type LocalStack, type StackOptions } from './stack';

// `@invoice-pipeline/local-stack/testing`: starters for integration tests (test code only).
export { startTestKinesis, startTestS3, type TestKinesis, type TestS3 } from '@invoice-pipeline/local-emulators/testing';

/**
 * An isolated stack for an integration test: free ports, a temporary folder, and a stop that always runs and
 * removes the folder. Use in beforeAll/afterAll:
 *   const stack = await startTestStack(); … await stack.stop();
 */
export async function startTestStack(options: Partial<StackOptions> = {}): Promise<LocalStack & { dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'invoice-stack-'));
  try {
    const stack = await startStack({
      dir,
      fresh: true,
      ports: { kinesis: 0, dynamodb: 0, s3: 0, firehose: 0, warehouse: 0 },
      firehoseBufferSeconds: 1,
      mergeIntervalMs: 500,
      ...options,
    });
    return {
      ...stack,
      dir,
      stop: async () => {
        try {
          await stack.stop();
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
