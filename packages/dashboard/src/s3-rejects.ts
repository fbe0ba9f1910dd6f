import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { REJECT_PREFIXES } from '@invoice-pipeline/warehouse/analytics';
import type { RejectSource } from './analytics';

async function listAll(s3: S3Client, bucket: string, prefix: string) {
  const objects = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) if (object.Key) objects.push({ key: object.Key, lastModified: object.LastModified ?? new Date() });
    token = page.NextContinuationToken;
  } while (token);
  return objects;
}

/** Stream bad rows under s3://<archive>/bad-rows/ and rejected dump rows under s3://<dumps>/rejected/. */
export function s3RejectSources(s3: S3Client, buckets: { archive?: string; dumps?: string }): RejectSource[] {
  const read = (bucket: string) => async (key: string) => {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await object.Body?.transformToString('utf8')) ?? '';
  };
  const sources: RejectSource[] = [];
  const { archive, dumps } = buckets;
  if (archive) sources.push({ source: 'bad-row', list: () => listAll(s3, archive, REJECT_PREFIXES.badRows), read: read(archive) });
  if (dumps) sources.push({ source: 'dump-row', list: () => listAll(s3, dumps, REJECT_PREFIXES.dumpRows), read: read(dumps) });
  return sources;
}
