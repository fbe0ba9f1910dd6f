import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { StagedFile } from './staged-load';

/** `@invoice-pipeline/warehouse/s3`: every object under a prefix of the staging bucket (the loader's candidates). */
export async function listStagedFiles(s3: S3Client, bucket: string, prefix: string): Promise<StagedFile[]> {
  const files: StagedFile[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) if (object.Key && !object.Key.endsWith('/')) files.push({ key: object.Key, bytes: object.Size ?? 0 });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return files;
}
