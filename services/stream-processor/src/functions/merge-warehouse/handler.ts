import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import type { Logger } from '@aws-lambda-powertools/logger';
import { sleep } from '@invoice-pipeline/retry';
import { applyMigrations, loadStagedFiles, STAGED_PREFIX, type LoaderSession, type LoadReport, type StagedFile } from '@invoice-pipeline/warehouse';
import { listStagedFiles, moveToLoaded } from '@invoice-pipeline/warehouse/s3';
import { createS3Client } from '../../clients/s3';
import { logger as serviceLogger } from '../../lib/observability';
import { dataApiSession } from '../../warehouse/data-api-session';
import { readConfig } from './config';

export interface MergeWarehouseDependencies {
  /** The warehouse: the Redshift Data API in AWS. */
  session: LoaderSession;
  listStaged: () => Promise<StagedFile[]>;
  moveLoaded: (files: readonly StagedFile[]) => Promise<void>;
  logger: Pick<Logger, 'info'>;
}

/**
 * Scheduled: the warehouse load. Applies pending migrations once per container (again on the next run if they fail),
 * then lists the files Firehose staged under warehouse/, skips the ones recorded as loaded, COPYs the new ones into
 * the staging table, records them and MERGEs, in one Data API transaction, then moves the loaded files to loaded/
 * (which expires; warehouse/ does not). Any failure throws: the MergeFailures alarm hears the error, nothing is
 * recorded, and the next run takes the same files again.
 */
export function createHandler(deps: MergeWarehouseDependencies) {
  let migrated: Promise<number[]> | undefined;
  return async (): Promise<LoadReport> => {
    migrated ??= applyMigrations(deps.session).catch((error: unknown) => {
      migrated = undefined;
      throw error;
    });
    const applied = await migrated;
    if (applied.length > 0) deps.logger.info('warehouse migrations applied', { versions: applied });
    const report = await loadStagedFiles({ listStaged: deps.listStaged, session: deps.session, moveLoaded: deps.moveLoaded });
    deps.logger.info('warehouse load finished', { ...report });
    return report;
  };
}

/** Created once per container: configuration is read and checked here. */
export const main = (() => {
  const config = readConfig();
  const s3 = createS3Client();
  const session = dataApiSession(config, { redshift: new RedshiftDataClient({}), s3, sleep });
  return createHandler({
    session,
    listStaged: () => listStagedFiles(s3, config.stagingBucket, STAGED_PREFIX),
    moveLoaded: (files) => moveToLoaded(s3, config.stagingBucket, files),
    logger: serviceLogger,
  });
})();
