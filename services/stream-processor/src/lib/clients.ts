import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * One client per AWS service, created once per container. Endpoints come from the SDK's standard
 * AWS_ENDPOINT_URL_<SERVICE> variables, so the same code runs in Lambda and against the local stack.
 */
export const dynamodb = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

export const firehose = new FirehoseClient({});

// Path-style URLs work on AWS and on a local S3; checksums only when required keep bodies byte-exact on both.
export const s3 = new S3Client({ forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
