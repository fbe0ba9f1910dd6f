// `@invoice-pipeline/local-firehose/testing`: helpers for tests of the local Firehose (test code only; it calls `expect`).
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '@invoice-pipeline/local-emulators';
import type { DeliveryStreamStats } from './delivery-stream';

export { startTestKinesis, startTestS3, type TestKinesis, type TestS3 } from '@invoice-pipeline/local-emulators/testing';

export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function firehoseClientFor(endpoint: string): FirehoseClient {
  return new FirehoseClient({ endpoint, region: LOCAL_REGION, credentials: { ...LOCAL_CREDENTIALS }, maxAttempts: 1 });
}

/** Every accepted record is in exactly one place: delivered, failed to the error prefix, or visibly in flight. */
export function expectAccounted(stats: DeliveryStreamStats, settled = true): void {
  expect(stats.delivered + stats.failed + stats.inFlight).toBe(stats.recordsIn);
  expect(stats.inFlight).toBe(stats.buffered + stats.deliveringToS3 + stats.writingErrorOutput);
  if (settled) expect(stats.inFlight).toBe(0);
}
