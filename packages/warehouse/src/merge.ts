import { WAREHOUSE_COLUMNS, WAREHOUSE_KEY, WAREHOUSE_TABLES, type WarehouseDialect } from './contract';

/** The deduplicated source of one merge on Redshift, whose MERGE takes a table, never a subquery. */
export const MERGE_SOURCE_TABLE = 'invoice_lines_merge_source';
/** One row per staged invoice with its newest staged version, unless a newer one landed: what merges (steps 2-4 below). */
const MERGE_VERSIONS_TABLE = 'invoice_lines_merge_versions';

/**
 * Where a merge takes its staged rows from: a table or a parenthesised query with the warehouse columns and loaded_at,
 * and the statements that remove those rows once merged.
 */
export interface StagedRows {
  from: string;
  consumed: string[];
}

/**
 * The stream path's staging table: every row staged so far, emptied by the merge. On Postgres by TRUNCATE (the merge
 * holds the table's lock already): a DELETE leaves dead rows that, with no autovacuum on the embedded warehouse, every
 * later scan of the table reads again. Redshift keeps the DELETE: its TRUNCATE would commit the transaction half way.
 */
export const streamStagedRows = (dialect: WarehouseDialect): StagedRows => ({
  from: WAREHOUSE_TABLES.staging,
  consumed: [dialect === 'postgres' ? `TRUNCATE ${WAREHOUSE_TABLES.staging};` : `DELETE FROM ${WAREHOUSE_TABLES.staging};`],
});

/**
 * The one MERGE, used by every path that loads staged rows: statements that move them into invoice_lines, to run in one
 * transaction (one session: the temporary tables). The stream path merges its staging table; the batch path merges one
 * dump file's rows of its own staging table, numbered on the way (batch.ts), without copying them into the stream's
 * staging first. An invoice is replaced whole by its newest version:
 * 1. the lock on the stream's staging table keeps a concurrent COPY from landing between the merge and the DELETE of
 *    staging (it would be lost), and runs one merge at a time, whichever path it comes from;
 * 2. the versions table holds, per staged invoice, its newest staged version, and only for invoices whose landed
 *    version is not newer (an older delivery changes nothing);
 * 3. lines of older versions of those invoices are deleted, so lines a re-sent invoice no longer has disappear
 *    (joined per invoice, not per line: a line-by-line join pairs every line of an invoice with every other, quadratic
 *    in invoice size: 59 million pairs for the dataset loaded again);
 * 4. MERGE upserts the source: per (invoice_no, line_no) its newest staged copy (newest version, latest load: a
 *    redelivered file collapses to its latest load, one sort ranks the copies), when that copy is of its invoice's
 *    version in the versions table (after step 3 a match is the same version: a redelivery, idempotent).
 * Redshift's MERGE takes its source from a table, never a subquery: there the source is first written to a temporary
 * table. Postgres merges straight from the query: the source is not written and read once more (on the embedded
 * warehouse that write cost about as much as the query; the whole dataset's merge source: ~5 s).
 * Versions are fixed-width digit strings, so comparing them as text compares the sequence numbers as integers.
 * Valid on Redshift (MERGE from a temporary table, CREATE TEMP TABLE AS, DELETE … USING) and on Postgres 15+.
 */
export function mergeStagedStatements(dialect: WarehouseDialect, staged: StagedRows = streamStagedRows(dialect)): string[] {
  const { lines, staging } = WAREHOUSE_TABLES;
  const names = WAREHOUSE_COLUMNS.map((c) => c.name);
  const now = dialect === 'redshift' ? 'GETDATE()' : 'now()';
  const lock = dialect === 'redshift' ? `LOCK ${staging};` : `LOCK TABLE ${staging} IN EXCLUSIVE MODE;`;
  const on = WAREHOUSE_KEY.map((k) => `${lines}.${k} = src.${k}`).join(' AND ');
  const updated = names.filter((n) => !(WAREHOUSE_KEY as readonly string[]).includes(n));
  const source = [
    `SELECT ${names.map((n) => `ranked.${n}`).join(', ')} FROM (`,
    `  SELECT ${names.map((n) => `staged.${n}`).join(', ')},`,
    `    ROW_NUMBER() OVER (PARTITION BY staged.invoice_no, staged.line_no ORDER BY staged.record_version DESC, staged.loaded_at DESC) AS copy_rank`,
    `  FROM ${staged.from} staged`,
    `) ranked`,
    `JOIN ${MERGE_VERSIONS_TABLE} versions ON versions.invoice_no = ranked.invoice_no AND versions.record_version = ranked.record_version`,
    `WHERE ranked.copy_rank = 1`,
  ].join('\n');
  const materialised = dialect === 'redshift';
  const merge = (from: string) =>
    [
      `MERGE INTO ${lines} USING ${from} AS src`,
      `ON ${on}`,
      `WHEN MATCHED THEN UPDATE SET ${updated.map((n) => `${n} = src.${n}`).join(', ')}, merged_at = ${now}`,
      `WHEN NOT MATCHED THEN INSERT (${names.join(', ')}, merged_at) VALUES (${names.map((n) => `src.${n}`).join(', ')}, ${now});`,
    ].join('\n');
  return [
    lock,
    `DROP TABLE IF EXISTS ${MERGE_VERSIONS_TABLE};`,
    `CREATE TEMP TABLE ${MERGE_VERSIONS_TABLE} AS SELECT staged.invoice_no, MAX(staged.record_version) AS record_version FROM ${staged.from} staged GROUP BY staged.invoice_no;`,
    `DELETE FROM ${MERGE_VERSIONS_TABLE} USING ${lines} WHERE ${lines}.invoice_no = ${MERGE_VERSIONS_TABLE}.invoice_no AND ${lines}.record_version > ${MERGE_VERSIONS_TABLE}.record_version;`,
    // Postgres: statistics on the versions, or the planner takes the source for a few rows and probes the key index per line.
    ...(materialised ? [] : [`ANALYZE ${MERGE_VERSIONS_TABLE};`]),
    `DELETE FROM ${lines} USING ${MERGE_VERSIONS_TABLE} src WHERE ${lines}.invoice_no = src.invoice_no AND ${lines}.record_version < src.record_version;`,
    ...(materialised
      ? [`DROP TABLE IF EXISTS ${MERGE_SOURCE_TABLE};`, `CREATE TEMP TABLE ${MERGE_SOURCE_TABLE} AS\n${source};`, merge(MERGE_SOURCE_TABLE)]
      : [merge(`(\n${source}\n)`)]),
    ...staged.consumed,
    ...(materialised ? [`DROP TABLE ${MERGE_SOURCE_TABLE};`] : []),
    `DROP TABLE ${MERGE_VERSIONS_TABLE};`,
  ];
}
