import type { S3Client } from '@aws-sdk/client-s3';
import { readEndpoints, writeEndpoints } from '@invoice-pipeline/local-stack';
import { AnalyticsReader } from './analytics';
import { connectAnalytics } from './connect';
import { s3RejectSources } from './s3-rejects';
import { startDashboard, type RunningDashboard } from './server';
import type { SinkCount } from './snapshot';

/** The fixed port of the local run's dashboard (`--random-ports` picks a free one). */
export const DEFAULT_DASHBOARD_PORT = 4580;

export interface LocalDashboardOptions {
  /** The local run's state folder: endpoints.json is read from it and gets the dashboard's URL. */
  dir: string;
  s3: S3Client;
  port?: number;
  refreshMs?: number;
  sinks?: () => Promise<SinkCount[]>;
  log?: (message: string) => void;
}

/**
 * The dashboard of the local run: reads the local warehouse, records bad rows from the archive bucket (and rejected
 * dump rows from the dumps bucket, when the batch loader is provisioned), and writes its URL to endpoints.json.
 */
export async function startLocalDashboard(options: LocalDashboardOptions): Promise<RunningDashboard> {
  const endpoints = await readEndpoints(options.dir);
  const buckets = {
    archive: endpoints.outputs['stream-processor']?.ArchiveBucketName,
    dumps: endpoints.outputs['batch-loader']?.DumpsBucketName,
  };
  const connection = connectAnalytics(endpoints.warehouse.url);
  const reader = new AnalyticsReader(connection.db, s3RejectSources(options.s3, buckets));
  const dashboard = await startDashboard({ reader, port: options.port ?? DEFAULT_DASHBOARD_PORT, refreshMs: options.refreshMs, sinks: options.sinks, log: options.log });
  await writeEndpoints(options.dir, { ...(await readEndpoints(options.dir)), dashboard: dashboard.url });
  return {
    ...dashboard,
    stop: async () => {
      await dashboard.stop();
      await connection.close();
    },
  };
}
