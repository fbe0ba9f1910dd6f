import { S3Client } from '@aws-sdk/client-s3';

/**
 * The archive bucket's client (bad rows). Path-style URLs work on AWS and on a local S3; checksums only when required
 * keep bodies byte-exact on both.
 */
export function createS3Client(): S3Client {
  return new S3Client({ forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
}
