import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Endpoints } from './endpoints';

/** AWS SDK v3 clients pointed at the local stack, with the settings each emulator needs. */
export interface LocalClients {
  kinesis: KinesisClient;
  dynamodb: DynamoDBClient;
  s3: S3Client;
  firehose: FirehoseClient;
  destroy(): void;
}

export function localClients(endpoints: Pick<Endpoints, 'region' | 'credentials' | 'kinesis' | 'dynamodb' | 's3' | 'firehose'>): LocalClients {
  const base = { region: endpoints.region, credentials: endpoints.credentials, maxAttempts: 3 };
  const clients = {
    // kinesalite speaks HTTP/1.1 only; the SDK's default handler for Kinesis would try HTTP/2.
    kinesis: new KinesisClient({ ...base, endpoint: endpoints.kinesis, requestHandler: new NodeHttpHandler() }),
    dynamodb: new DynamoDBClient({ ...base, endpoint: endpoints.dynamodb }),
    // s3rver needs path-style URLs, and stores aws-chunked uploads verbatim unless checksums are only sent when required.
    s3: new S3Client({
      ...base,
      endpoint: endpoints.s3,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
    firehose: new FirehoseClient({ ...base, endpoint: endpoints.firehose }),
  };
  return { ...clients, destroy: () => Object.values(clients).forEach((client) => client.destroy()) };
}
