import { grantAnalystsStatement } from '../analytics-layer';
import { renderSql, type AnalyticsDialect } from './dialect';
import { ANALYTICS_QUERIES, analyticsScript, analyticsSql, type AnalyticsQueryName, type AnalyticsResults, type AnalyticsRow } from './queries';

/**
 * A warehouse connection as the analytics need it. Over the Postgres wire protocol this is `pg` (local Postgres,
 * the embedded warehouse's socket, or Redshift's endpoint); in-process it is PGlite.
 */
export interface AnalyticsDb {
  readonly dialect: AnalyticsDialect;
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a script of several statements as one request; its own BEGIN/COMMIT make it atomic. */
  execute(script: string): Promise<void>;
}

/** What `pg` (Client or Pool) offers. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

export function pgAnalyticsDb(pg: PgQueryable, dialect: AnalyticsDialect = 'postgres'): AnalyticsDb {
  return {
    dialect,
    query: async <T>(sql: string, params?: unknown[]) => (await pg.query(sql, params)).rows as T[],
    // Without parameters `pg` sends the simple query protocol: the whole script is one request.
    execute: async (script) => void (await pg.query(script)),
  };
}

/**
 * Creates the analytics tables and view (idempotent) and grants the analysts' role SELECT on them again (a replaced
 * view keeps it). Needs the warehouse migrations applied (invoice_lines and the role; migration 5 runs this too).
 */
export async function prepareAnalytics(db: AnalyticsDb): Promise<void> {
  await db.execute(`${analyticsScript('schema', db.dialect)}\n${grantAnalystsStatement(db.dialect)}`);
}

/** Rebuilds the dimensional layer (dates, products, customers, RFM) from invoice_lines, atomically. */
export async function rebuildAnalytics(db: AnalyticsDb): Promise<void> {
  await db.execute(analyticsScript('rebuild', db.dialect));
}

export function runAnalyticsQuery<Name extends AnalyticsQueryName>(db: AnalyticsDb, name: Name): Promise<AnalyticsRow<Name>[]> {
  return db.query<AnalyticsRow<Name>>(analyticsSql(name, db.dialect));
}

export const ANALYTICS_QUERY_NAMES = Object.keys(ANALYTICS_QUERIES) as AnalyticsQueryName[];

/** Runs the named queries one after the other (the embedded warehouse serves one query at a time anyway). */
export async function runAnalytics<Name extends AnalyticsQueryName>(db: AnalyticsDb, names: readonly Name[]): Promise<Pick<AnalyticsResults, Name>> {
  const results = {} as Pick<AnalyticsResults, Name>;
  for (const name of names) results[name] = (await runAnalyticsQuery(db, name)) as Pick<AnalyticsResults, Name>[Name];
  return results;
}

/** A change marker of invoice_lines: the dimensional layer needs a rebuild only when it moved. */
export async function linesVersion(db: AnalyticsDb): Promise<string> {
  const [row] = await db.query<{ lines: number; newest: string | null }>(
    `SELECT CAST(COUNT(*) AS INTEGER) AS lines, TO_CHAR(MAX(merged_at), 'YYYY-MM-DD HH24:MI:SS.US') AS newest FROM invoice_lines`,
  );
  return `${row?.lines ?? 0}@${row?.newest ?? ''}`;
}

/** One object the pipeline set aside: a stream bad row, or a file of rejected dump rows. */
export interface PipelineReject {
  source: 'bad-row' | 'dump-row';
  objectKey: string;
  /** YYYY-MM-DD, the day it was set aside. */
  rejectedOn: string;
  rowCount: number;
}

const REJECTS_PER_INSERT = 200;

/** Records rejects not yet recorded (keyed by source and object key), so recording a listing again changes nothing. */
export async function recordRejects(db: AnalyticsDb, rejects: readonly PipelineReject[]): Promise<number> {
  const known = new Set((await db.query<{ source: string; object_key: string }>('SELECT source, object_key FROM pipeline_rejects')).map((r) => `${r.source} ${r.object_key}`));
  const fresh = [...new Map(rejects.map((r) => [`${r.source} ${r.objectKey}`, r])).entries()].filter(([key]) => !known.has(key)).map(([, r]) => r);
  for (let start = 0; start < fresh.length; start += REJECTS_PER_INSERT) {
    const chunk = fresh.slice(start, start + REJECTS_PER_INSERT);
    const values = chunk.map((_, i) => `($${i * 4 + 1}, $${i * 4 + 2}, CAST($${i * 4 + 3} AS DATE), $${i * 4 + 4}, {{now}})`).join(', ');
    const sql = renderSql(`INSERT INTO pipeline_rejects (source, object_key, rejected_on, row_count, recorded_at) VALUES ${values}`, db.dialect);
    await db.query(sql, chunk.flatMap((r) => [r.source, r.objectKey, r.rejectedOn, r.rowCount]));
  }
  return fresh.length;
}
