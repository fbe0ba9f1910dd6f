import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * The one Kinesis client of the service, created once per container.
 *
 * - HTTP/1.1 (NodeHttpHandler): the SDK's HTTP/2 default for Kinesis fails against kinesalite, and buys nothing for
 *   PutRecords.
 * - maxAttempts 1: retries belong to putInvoices, which retries only the records that failed and keeps one time
 *   budget; SDK retries underneath would multiply it.
 * - The endpoint is the SDK's: `AWS_ENDPOINT_URL_KINESIS` points it at a local stream, nothing else changes.
 */
export function createKinesisClient(): KinesisClient {
  return new KinesisClient({
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 1_000, requestTimeout: 3_000 }),
  });
}
