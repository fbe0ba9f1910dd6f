import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { parseJsonObjects, rowForColumns } from '@invoice-pipeline/local-firehose';
import { STAGED_COPY_COLUMNS, WAREHOUSE_TABLES, type LoaderSession, type StagedFile } from '@invoice-pipeline/warehouse';
import type { Warehouse } from '@invoice-pipeline/warehouse/postgres';

const gunzipAsync = promisify(gunzip);
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/**
 * Redshift's `COPY … MANIFEST FORMAT AS JSON 'auto' GZIP` of staged files, on the local Postgres: each file is read from
 * s3rver, must be gzip (as GZIP demands), and its JSON objects become rows by column name. Rows and statements run in
 * one transaction, as the Data API's BatchExecuteStatement runs the COPY and the MERGE.
 */
export function localLoaderSession(warehouse: Warehouse, s3: S3Client, bucket: string): LoaderSession {
  async function readRows(file: StagedFile): Promise<Record<string, unknown>[]> {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: file.key }));
    const stored = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
    if (!stored.subarray(0, 2).equals(GZIP_MAGIC)) throw new Error(`COPY … GZIP: s3://${bucket}/${file.key} is not gzip`);
    return parseJsonObjects((await gunzipAsync(stored)).toString('utf8')).map((row) => rowForColumns(row, STAGED_COPY_COLUMNS, false));
  }
  return {
    dialect: warehouse.dialect,
    query: (sql) => warehouse.query(sql),
    async transaction(statements, copy = []) {
      const rows = (await Promise.all(copy.map(readRows))).flat();
      await warehouse.transaction(async (tx) => {
        if (rows.length > 0) await tx.bulkInsert(WAREHOUSE_TABLES.staging, STAGED_COPY_COLUMNS, rows);
        for (const statement of statements) await tx.query(statement);
      });
    },
  };
}
