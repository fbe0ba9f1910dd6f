import { CopyObjectCommand, DeleteObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { forEachLimited } from '@invoice-pipeline/retry';
import { loadedKey, type StagedFile } from './staged-load';

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

/** Moves at most this many files at a time (two requests each). */
const MOVE_CONCURRENCY = 8;

/**
 * `moveLoaded` of the loader: each file is copied to loaded/ (same key after the prefix), then deleted from warehouse/.
 * A failure throws after the other moves finished; what was not moved stays under warehouse/ for the next run.
 */
export async function moveToLoaded(s3: S3Client, bucket: string, files: readonly StagedFile[]): Promise<void> {
  const failures: unknown[] = [];
  await forEachLimited(files, MOVE_CONCURRENCY, async (file) => {
    try {
      const copySource = `${bucket}/${file.key.split('/').map(encodeURIComponent).join('/')}`;
      await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: loadedKey(file.key), CopySource: copySource }));
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: file.key }));
    } catch (error) {
      failures.push(error);
    }
  });
  if (failures.length > 0) throw new AggregateError(failures, `${failures.length} of ${files.length} loaded file(s) could not be moved to loaded/; the next run moves them`);
}
