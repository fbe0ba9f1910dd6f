import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Where a client goes and as whom: one emulator's endpoint, the local region and credentials. */
export interface EmulatorClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  maxAttempts?: number;
}

/** The one home of the emulator workarounds for Kinesis: kinesalite speaks HTTP/1.1 only (the SDK would try HTTP/2). */
export function emulatorKinesisClient(config: EmulatorClientConfig): KinesisClient {
  return new KinesisClient({ ...config, requestHandler: new NodeHttpHandler() });
}

/**
 * The one home of the emulator workarounds for S3: s3rver needs path-style URLs, and stores aws-chunked uploads verbatim
 * unless checksums are only sent when required.
 */
export function emulatorS3Client(config: EmulatorClientConfig): S3Client {
  return new S3Client({ ...config, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
}

/** AWS SDK v3 clients pointed at the local emulators, with the settings each needs. */
export interface LocalClients {
  kinesis: KinesisClient;
  dynamodb: DynamoDBClient;
  s3: S3Client;
  firehose: FirehoseClient;
  destroy(): void;
}

export interface LocalClientEndpoints {
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  kinesis: string;
  dynamodb: string;
  s3: string;
  firehose: string;
}

export function localClients(endpoints: LocalClientEndpoints): LocalClients {
  const base = { region: endpoints.region, credentials: endpoints.credentials, maxAttempts: 3 };
  const clients = {
    kinesis: emulatorKinesisClient({ ...base, endpoint: endpoints.kinesis }),
    dynamodb: new DynamoDBClient({ ...base, endpoint: endpoints.dynamodb }),
    s3: emulatorS3Client({ ...base, endpoint: endpoints.s3 }),
    firehose: new FirehoseClient({ ...base, endpoint: endpoints.firehose }),
  };
  return { ...clients, destroy: () => Object.values(clients).forEach((client) => client.destroy()) };
}
