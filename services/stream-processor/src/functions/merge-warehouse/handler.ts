import { BatchExecuteStatementCommand, DescribeStatementCommand, RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { Logger } from '@aws-lambda-powertools/logger';
import { sleep } from '@invoice-pipeline/retry';
import { mergeStagedStatements } from '@invoice-pipeline/warehouse';
import { requiredEnv } from '../../lib/config';

const logger = new Logger();
const redshift = new RedshiftDataClient({});
const config = {
  workgroupName: requiredEnv(process.env, 'mergeWarehouse', 'REDSHIFT_WORKGROUP'),
  database: requiredEnv(process.env, 'mergeWarehouse', 'REDSHIFT_DATABASE'),
  secretArn: requiredEnv(process.env, 'mergeWarehouse', 'REDSHIFT_SECRET_ARN'),
};

/**
 * Scheduled: merges what Firehose COPYed into the staging table into invoice_lines, one row per (invoice_no, line_no).
 * BatchExecuteStatement runs the statements as one transaction, so a failed merge leaves staging intact for the next run.
 * The local stack runs the same statements (Postgres dialect) on a timer.
 */
export const main = async (): Promise<{ status: string }> => {
  const { Id } = await redshift.send(
    new BatchExecuteStatementCommand({ WorkgroupName: config.workgroupName, Database: config.database, SecretArn: config.secretArn, Sqls: mergeStagedStatements('redshift') }),
  );
  for (;;) {
    const statement = await redshift.send(new DescribeStatementCommand({ Id }));
    if (statement.Status === 'FINISHED') {
      logger.info('warehouse merge finished', { id: Id, durationNs: statement.Duration });
      return { status: 'FINISHED' };
    }
    if (statement.Status === 'FAILED' || statement.Status === 'ABORTED') throw new Error(`warehouse merge ${Id} ${statement.Status}: ${statement.Error}`);
    await sleep(2_000);
  }
};
