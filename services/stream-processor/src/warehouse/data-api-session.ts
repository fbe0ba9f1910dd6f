import { randomUUID } from 'node:crypto';
import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  type Field,
  type RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { S3_PREFIXES } from '@invoice-pipeline/transactions';
import { copyManifest, redshiftCopyStatement, type LoaderSession } from '@invoice-pipeline/warehouse';

export interface DataApiSettings {
  workgroupName: string;
  database: string;
  secretArn: string;
  /** The namespace's role Redshift assumes to read the staged files (COPY … IAM_ROLE). */
  copyRoleArn: string;
  /** Where the staged files and the COPY manifests are. */
  stagingBucket: string;
}

export interface DataApiDependencies {
  redshift: Pick<RedshiftDataClient, 'send'>;
  s3: Pick<S3Client, 'send'>;
  sleep: (ms: number) => Promise<void>;
  /** Pause between DescribeStatement polls (default 1000). */
  pollMs?: number;
}

const fieldValue = (field: Field): unknown => (field.isNull ? null : (field.stringValue ?? field.longValue ?? field.doubleValue ?? field.booleanValue ?? null));

/**
 * The loader's warehouse in AWS: the Redshift Data API, which reaches a private workgroup without a network path into
 * its VPC. A statement's failure (FAILED or ABORTED) is thrown with Redshift's message, so the run fails loudly.
 */
export function dataApiSession(settings: DataApiSettings, deps: DataApiDependencies): LoaderSession {
  const target = { WorkgroupName: settings.workgroupName, Database: settings.database, SecretArn: settings.secretArn };

  async function finished(id: string, what: string): Promise<void> {
    for (;;) {
      const statement = await deps.redshift.send(new DescribeStatementCommand({ Id: id }));
      if (statement.Status === 'FINISHED') return;
      if (statement.Status === 'FAILED' || statement.Status === 'ABORTED') throw new Error(`warehouse ${what} ${id} ${statement.Status}: ${statement.Error ?? 'no error given'}`);
      await deps.sleep(deps.pollMs ?? 1_000);
    }
  }

  return {
    dialect: 'redshift',
    async query<T>(sql: string): Promise<T[]> {
      const { Id } = await deps.redshift.send(new ExecuteStatementCommand({ ...target, Sql: sql }));
      if (!Id) throw new Error('ExecuteStatement returned no statement id');
      await finished(Id, 'query');
      const rows: T[] = [];
      let nextToken: string | undefined;
      do {
        const page = await deps.redshift.send(new GetStatementResultCommand({ Id, NextToken: nextToken }));
        const names = (page.ColumnMetadata ?? []).map((column) => column.name ?? '');
        for (const record of page.Records ?? []) rows.push(Object.fromEntries(record.map((field, i) => [names[i], fieldValue(field)])) as T);
        nextToken = page.NextToken;
      } while (nextToken);
      return rows;
    },
    async transaction(statements, copy = []) {
      const sqls = [...statements];
      if (copy.length > 0) {
        // The manifest names exactly these files (a COPY FROM a key would also load every key it prefixes).
        const key = `${S3_PREFIXES.copyManifests}${new Date().toISOString().slice(0, 10)}/${randomUUID()}.manifest`;
        await deps.s3.send(new PutObjectCommand({ Bucket: settings.stagingBucket, Key: key, Body: copyManifest(settings.stagingBucket, copy), ContentType: 'application/json' }));
        sqls.unshift(redshiftCopyStatement(`s3://${settings.stagingBucket}/${key}`, settings.copyRoleArn));
      }
      // BatchExecuteStatement runs its statements in order as one transaction: any failure rolls every one back.
      const { Id } = await deps.redshift.send(new BatchExecuteStatementCommand({ ...target, Sqls: sqls }));
      if (!Id) throw new Error('BatchExecuteStatement returned no statement id');
      await finished(Id, copy.length > 0 ? `load of ${copy.length} file(s)` : 'statements');
    },
  };
}
