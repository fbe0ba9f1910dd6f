import { readEndpoints } from '@invoice-pipeline/local-stack';
import { pgAnalyticsDb, type AnalyticsDb } from '@invoice-pipeline/warehouse/analytics';
import { Pool } from 'pg';

/** The warehouse to read: WAREHOUSE_URL when set, else the local run's (.local/endpoints.json). */
export async function warehouseUrl(env: NodeJS.ProcessEnv = process.env, dir?: string): Promise<string> {
  if (env.WAREHOUSE_URL) return env.WAREHOUSE_URL;
  return (await readEndpoints(dir)).warehouse.url;
}

/** Redshift speaks the Postgres protocol; its endpoints are known by their host names. */
export function dialectOf(url: string): AnalyticsDb['dialect'] {
  return /\.redshift(-serverless)?\.amazonaws\.com(\.cn)?(:|\/|$)/.test(new URL(url).host + '/') ? 'redshift' : 'postgres';
}

/** A pool on a Postgres-protocol warehouse (the local one, any Postgres, or Redshift). */
export function connectAnalytics(url: string, dialect: AnalyticsDb['dialect'] = dialectOf(url)): { db: AnalyticsDb; close(): Promise<void> } {
  const pool = new Pool({ connectionString: url, max: 2 });
  return { db: pgAnalyticsDb(pool, dialect), close: () => pool.end() };
}
