import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { sleep } from '@invoice-pipeline/retry';
import { applyMigrations, loadStagedFiles, STAGED_PREFIX, type LoadReport } from '@invoice-pipeline/warehouse';
import { listStagedFiles, moveToLoaded } from '@invoice-pipeline/warehouse/s3';
import { createS3Client } from '../../clients/s3';
import { requiredEnv } from '@invoice-pipeline/function-config';
import { logger } from '../../lib/observability';
import { dataApiSession } from '../../warehouse/data-api-session';

const env = (name: string) => requiredEnv(process.env, 'mergeWarehouse', name);
const stagingBucket = env('STAGING_BUCKET');
const s3 = createS3Client();
const session = dataApiSession(
  {
    workgroupName: env('REDSHIFT_WORKGROUP'),
    database: env('REDSHIFT_DATABASE'),
    secretArn: env('REDSHIFT_SECRET_ARN'),
    copyRoleArn: env('REDSHIFT_COPY_ROLE_ARN'),
    stagingBucket,
  },
  { redshift: new RedshiftDataClient({}), s3, sleep },
);
// Once per container: pending migrations (versioned, idempotent) before the first load.
let migrated: Promise<number[]> | undefined;

/**
 * Scheduled: the warehouse load. Lists the files Firehose staged under warehouse/, skips the ones recorded as loaded,
 * COPYs the new ones into the staging table, records them and MERGEs, in one Data API transaction, then moves the loaded
 * files to loaded/ (which expires; warehouse/ does not). Any failure throws:
 * the MergeFailures alarm hears the error, nothing is recorded, and the next run takes the same files again.
 */
export const main = async (): Promise<LoadReport> => {
  migrated ??= applyMigrations(session).catch((error: unknown) => {
    migrated = undefined;
    throw error;
  });
  const applied = await migrated;
  if (applied.length > 0) logger.info('warehouse migrations applied', { versions: applied });
  const report = await loadStagedFiles({
    listStaged: () => listStagedFiles(s3, stagingBucket, STAGED_PREFIX),
    session,
    moveLoaded: (files) => moveToLoaded(s3, stagingBucket, files),
  });
  logger.info('warehouse load finished', { ...report });
  return report;
};
