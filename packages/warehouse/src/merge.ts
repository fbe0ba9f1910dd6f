import { WAREHOUSE_COLUMNS, WAREHOUSE_KEY, WAREHOUSE_TABLES, type WarehouseDialect } from './contract';

/** The deduplicated source of one merge: Redshift's MERGE takes a table, never a subquery. */
export const MERGE_SOURCE_TABLE = 'invoice_lines_merge_source';
/** One row per invoice of the merge source with its version: what older lines are deleted by (step 3 below). */
const MERGE_VERSIONS_TABLE = 'invoice_lines_merge_versions';

/**
 * Where a merge takes its staged rows from: a table or a parenthesised query with the warehouse columns and loaded_at,
 * and the statements that remove those rows once merged.
 */
export interface StagedRows {
  from: string;
  consumed: string[];
}

/** The stream path's staging table: every row staged so far, emptied by the merge. */
export const STREAM_STAGED_ROWS: StagedRows = { from: WAREHOUSE_TABLES.staging, consumed: [`DELETE FROM ${WAREHOUSE_TABLES.staging};`] };

/**
 * The one MERGE, used by every path that loads staged rows: statements that move them into invoice_lines, to run in one
 * transaction (one session: the source is a temporary table). The stream path merges its staging table; the batch path
 * merges one dump file's rows of its own staging table, numbered on the way (batch.ts), without copying them into the
 * stream's staging first. An invoice is replaced whole by its newest version:
 * 1. the lock on the stream's staging table keeps a concurrent COPY from landing between the merge and the DELETE of
 *    staging (it would be lost), and runs one merge at a time, whichever path it comes from;
 * 2. the source holds, per invoice, only the lines of its newest staged version, one row per (invoice_no, line_no)
 *    (a redelivered file collapses to its latest load), and nothing of an invoice whose landed version is newer: one
 *    sort ranks each line's staged copies, newest version and latest load first, and finds each invoice's newest
 *    version (a self-join on the invoice's newest version read the staged rows once more and cost ~40% more);
 * 3. lines of older versions of those invoices are deleted, so lines a re-sent invoice no longer has disappear
 *    (joined per invoice, not per line: a line-by-line join pairs every line of an invoice with every other, quadratic
 *    in invoice size: 59 million pairs for the dataset loaded again);
 * 4. MERGE upserts the source (after step 3 a match is the same version: a redelivery, idempotent).
 * Versions are fixed-width digit strings, so comparing them as text compares the sequence numbers as integers.
 * Valid on Redshift (MERGE from a temporary table, CREATE TEMP TABLE AS, DELETE … USING) and on Postgres 15+.
 */
export function mergeStagedStatements(dialect: WarehouseDialect, staged: StagedRows = STREAM_STAGED_ROWS): string[] {
  const { lines, staging } = WAREHOUSE_TABLES;
  const names = WAREHOUSE_COLUMNS.map((c) => c.name);
  const now = dialect === 'redshift' ? 'GETDATE()' : 'now()';
  const lock = dialect === 'redshift' ? `LOCK ${staging};` : `LOCK TABLE ${staging} IN EXCLUSIVE MODE;`;
  const on = WAREHOUSE_KEY.map((k) => `${lines}.${k} = src.${k}`).join(' AND ');
  const updated = names.filter((n) => !(WAREHOUSE_KEY as readonly string[]).includes(n));
  return [
    lock,
    `DROP TABLE IF EXISTS ${MERGE_SOURCE_TABLE};`,
    [
      `CREATE TEMP TABLE ${MERGE_SOURCE_TABLE} AS`,
      `SELECT ${names.map((n) => `ranked.${n}`).join(', ')} FROM (`,
      `  SELECT ${names.map((n) => `staged.${n}`).join(', ')},`,
      `    ROW_NUMBER() OVER (PARTITION BY staged.invoice_no, staged.line_no ORDER BY staged.record_version DESC, staged.loaded_at DESC) AS copy_rank,`,
      `    MAX(staged.record_version) OVER (PARTITION BY staged.invoice_no) AS newest_version`,
      `  FROM ${staged.from} staged`,
      `) ranked`,
      `LEFT JOIN (`,
      `  SELECT invoice_no, MAX(record_version) AS record_version FROM ${lines}`,
      `  WHERE invoice_no IN (SELECT invoice_no FROM ${staged.from} staged_invoices) GROUP BY invoice_no`,
      `) landed ON landed.invoice_no = ranked.invoice_no`,
      `WHERE ranked.copy_rank = 1 AND ranked.record_version = ranked.newest_version`,
      `  AND (landed.record_version IS NULL OR landed.record_version <= ranked.record_version);`,
    ].join('\n'),
    `DROP TABLE IF EXISTS ${MERGE_VERSIONS_TABLE};`,
    `CREATE TEMP TABLE ${MERGE_VERSIONS_TABLE} AS SELECT invoice_no, MAX(record_version) AS record_version FROM ${MERGE_SOURCE_TABLE} GROUP BY invoice_no;`,
    `DELETE FROM ${lines} USING ${MERGE_VERSIONS_TABLE} src WHERE ${lines}.invoice_no = src.invoice_no AND ${lines}.record_version < src.record_version;`,
    [
      `MERGE INTO ${lines} USING ${MERGE_SOURCE_TABLE} AS src`,
      `ON ${on}`,
      `WHEN MATCHED THEN UPDATE SET ${updated.map((n) => `${n} = src.${n}`).join(', ')}, merged_at = ${now}`,
      `WHEN NOT MATCHED THEN INSERT (${names.join(', ')}, merged_at) VALUES (${names.map((n) => `src.${n}`).join(', ')}, ${now});`,
    ].join('\n'),
    ...staged.consumed,
    `DROP TABLE ${MERGE_VERSIONS_TABLE};`,
    `DROP TABLE ${MERGE_SOURCE_TABLE};`,
  ];
}
