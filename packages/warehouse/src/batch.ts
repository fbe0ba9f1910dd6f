import { columnsAsOf, WAREHOUSE_COLUMNS, WAREHOUSE_TABLES, type WarehouseColumn, type WarehouseDialect } from './contract';
import { mergeStagedStatements, type StagedRows } from './merge';

/** The batch path's tables (dumps loaded by the Glue job, or the local Glue). */
export const BATCH_TABLES = {
  /** One dump's lines, numbered within (file, invoice) until their merge. */
  staging: 'invoice_lines_batch_staging',
  /** Which line numbers each (invoice, dump file) holds: how an invoice split across two dumps keeps its numbering. */
  segments: 'batch_invoice_segments',
  /** One row per dump file merged, with its counts. */
  loads: 'batch_loads',
} as const;

/** Columns of the batch staging table: the warehouse row without line_no, then where each line came from. */
// record_version is left to its default (''): a dump is not a stream delivery, so it never outranks a streamed version.
export const BATCH_STAGING_COLUMNS: readonly WarehouseColumn['name'][] = WAREHOUSE_COLUMNS.map((c) => c.name).filter((n) => n !== 'line_no' && n !== 'record_version');
export const BATCH_SOURCE_COLUMNS = ['source_file', 'source_line', 'line_in_file'] as const;

/** DDL of the batch tables (migration 2). */
export function batchTableStatements(dialect: WarehouseDialect): string[] {
  const now = dialect === 'redshift' ? 'GETDATE()' : 'now()';
  const dist = dialect === 'redshift' ? '\nDISTSTYLE KEY DISTKEY (invoice_no)' : '';
  const columns = columnsAsOf(2).filter((c) => c.name !== 'line_no').map((c) => `  ${c.name} ${c.type}${c.nullable ? '' : ' NOT NULL'}`);
  return [
    `CREATE TABLE IF NOT EXISTS ${BATCH_TABLES.staging} (\n${columns.join(',\n')},\n  source_file VARCHAR(1024) NOT NULL,\n  source_line INTEGER NOT NULL,\n  line_in_file INTEGER NOT NULL,\n  loaded_at TIMESTAMP NOT NULL DEFAULT ${now}\n)${dist};`,
    `CREATE TABLE IF NOT EXISTS ${BATCH_TABLES.segments} (\n  invoice_no VARCHAR(24) NOT NULL,\n  source_file VARCHAR(1024) NOT NULL,\n  first_line_no INTEGER NOT NULL,\n  line_count INTEGER NOT NULL,\n  assigned_at TIMESTAMP NOT NULL DEFAULT ${now},\n  PRIMARY KEY (invoice_no, source_file)\n)${dist};`,
    `CREATE TABLE IF NOT EXISTS ${BATCH_TABLES.loads} (\n  source_file VARCHAR(1024) NOT NULL PRIMARY KEY,\n  lines INTEGER NOT NULL,\n  rejected INTEGER NOT NULL,\n  merged_at TIMESTAMP NOT NULL\n);`,
  ];
}

/** A SQL string literal (the Data API's BatchExecuteStatement takes no parameters). */
export const sqlLiteral = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** Counts of one dump file, recorded with its merge. */
export interface BatchFileCounts {
  lines: number;
  rejected: number;
}

/** Temporary table of a dump's fresh invoices (invoice_no, line_count): none of their lines is in the warehouse yet. */
export const BATCH_FRESH_TABLE = 'batch_fresh_invoices';

/**
 * A dump's fresh invoices: those of `fileInvoices` (a table or parenthesised query of the file's invoice_no and
 * line_count) with no line in invoice_lines and no segment of any file (a re-upload has its own, and an invoice cut
 * across dumps the other file's), written to BATCH_FRESH_TABLE and given their segment, lines 1..n. The caller holds
 * the segments and stream staging locks (batchFileLockStatements), so no merge can land one of them in between.
 */
export function freshBatchInvoicesStatements(dialect: WarehouseDialect, sourceFile: string, fileInvoices: string): string[] {
  const now = dialect === 'redshift' ? 'GETDATE()' : 'now()';
  const { segments } = BATCH_TABLES;
  return [
    `DROP TABLE IF EXISTS ${BATCH_FRESH_TABLE};`,
    [
      `CREATE TEMP TABLE ${BATCH_FRESH_TABLE} AS SELECT f.invoice_no, f.line_count FROM ${fileInvoices} f`,
      `WHERE NOT EXISTS (SELECT 1 FROM ${WAREHOUSE_TABLES.lines} l WHERE l.invoice_no = f.invoice_no)`,
      `AND NOT EXISTS (SELECT 1 FROM ${segments} e WHERE e.invoice_no = f.invoice_no);`,
    ].join('\n'),
    `INSERT INTO ${segments} (invoice_no, source_file, first_line_no, line_count, assigned_at) SELECT invoice_no, ${sqlLiteral(sourceFile)}, 1, line_count, ${now} FROM ${BATCH_FRESH_TABLE};`,
  ];
}

/**
 * Postgres (the local Glue): a dump's invoices and line counts, COPYed from the transform into a temporary table, for
 * freshBatchInvoicesStatements before any line is staged; and which of them are not fresh (their lines are staged).
 */
export const BATCH_FILE_INVOICES = {
  table: 'batch_file_invoices',
  columns: ['invoice_no', 'line_count'],
  create: 'CREATE TEMP TABLE batch_file_invoices (invoice_no VARCHAR(24) NOT NULL, line_count INTEGER NOT NULL) ON COMMIT DROP;',
  notFresh: `SELECT f.invoice_no FROM batch_file_invoices f WHERE NOT EXISTS (SELECT 1 FROM ${BATCH_FRESH_TABLE} n WHERE n.invoice_no = f.invoice_no);`,
} as const;

/**
 * The locks a dump's merge takes first, in this order (the stream's loader takes only the second): segments are handed
 * out one file at a time, so two dumps merging together cannot take the same numbers, and no stream merge lands a
 * line of an invoice this file takes for fresh. Postgres: memory for the merge's sorts and hashes (the default 4 MB
 * spills a whole dump's sort to disk), this transaction only.
 */
export function batchFileLockStatements(dialect: WarehouseDialect): string[] {
  const lock = (table: string) => (dialect === 'redshift' ? `LOCK ${table};` : `LOCK TABLE ${table} IN EXCLUSIVE MODE;`);
  return [...(dialect === 'postgres' ? [`SET LOCAL work_mem = '256MB';`] : []), lock(BATCH_TABLES.segments), lock(WAREHOUSE_TABLES.staging)];
}

/**
 * Statements that merge one dump file's staged lines, to run in one transaction after its lines were COPYed into
 * the batch staging table (preceded by batchFileReplaceStatements, so a re-run never doubles them).
 *
 * Line numbers: the transform numbers lines within (file, invoice). Each (invoice, file) pair is given a segment of
 * line numbers once, the first time that file is merged: after every segment the invoice already has. So an invoice
 * cut across two hourly dumps numbers on (lines 1-3 from the first file, 4-7 from the second), a re-run of a file
 * reuses its segment (changes nothing), and a whole invoice in one dump is numbered 1..n exactly as the stream path
 * numbers it.
 *
 * Fresh invoices (freshBatchInvoicesStatements: nothing of them in the warehouse) are INSERTed as staged, numbered
 * 1..n: what the MERGE would do with them, without its dedup and versions. Safe because a file's staged lines are
 * unique on (invoice_no, line_in_file) (numbered by the transform, the file's earlier staged lines deleted first), all
 * have record_version '' and no target line exists under the locks held. The rest (a re-upload, the second part of a
 * cut invoice, an invoice the stream delivered) goes through the stream path's own merge (mergeStagedStatements): one
 * MERGE for every line that may meet a landed one, reading the file's lines straight from batch staging, numbered on
 * the way (batchFileStagedRows). The local Glue COPYs fresh lines straight into invoice_lines instead of staging them
 * (packages/local-glue load.ts): this then finds none staged.
 */
export function mergeBatchFileStatements(dialect: WarehouseDialect, sourceFile: string, counts: BatchFileCounts): string[] {
  const file = sqlLiteral(sourceFile);
  const now = dialect === 'redshift' ? 'GETDATE()' : 'now()';
  const { staging: batchStaging, segments, loads } = BATCH_TABLES;
  // Postgres only: statistics on the freshly staged rows. Without them (PGlite has no autovacuum) the planner takes
  // `source_file = <file>` to match 0.5% of an unanalysed table and joins staging to segments by a nested loop:
  // quadratic, 17 s for 20,000 lines, hours for the whole dataset. Redshift analyses new tables itself.
  const postgres = (...statements: string[]) => (dialect === 'postgres' ? statements : []);
  const names = WAREHOUSE_COLUMNS.map((c) => c.name);
  const freshLines = names.map((n) => (n === 'line_no' ? 'b.line_in_file' : `b.${n}`));
  return [
    ...batchFileLockStatements(dialect),
    ...postgres(`ANALYZE ${batchStaging} (source_file, invoice_no);`),
    ...freshBatchInvoicesStatements(dialect, sourceFile, `(SELECT invoice_no, MAX(line_in_file) AS line_count FROM ${batchStaging} WHERE source_file = ${file} GROUP BY invoice_no)`),
    [
      `INSERT INTO ${WAREHOUSE_TABLES.lines} (${names.join(', ')}, merged_at)`,
      `SELECT ${freshLines.join(', ')}, ${now} FROM ${batchStaging} b JOIN ${BATCH_FRESH_TABLE} f ON f.invoice_no = b.invoice_no WHERE b.source_file = ${file};`,
    ].join('\n'),
    `DELETE FROM ${batchStaging} USING ${BATCH_FRESH_TABLE} f WHERE ${batchStaging}.source_file = ${file} AND ${batchStaging}.invoice_no = f.invoice_no;`,
    `DROP TABLE ${BATCH_FRESH_TABLE};`,
    [
      `INSERT INTO ${segments} (invoice_no, source_file, first_line_no, line_count, assigned_at)`,
      `SELECT f.invoice_no, ${file}, COALESCE(s.next_line_no, 1), f.line_count, ${now}`,
      `FROM (SELECT invoice_no, MAX(line_in_file) AS line_count FROM ${batchStaging} WHERE source_file = ${file} GROUP BY invoice_no) f`,
      `LEFT JOIN (SELECT invoice_no, MAX(first_line_no + line_count) AS next_line_no FROM ${segments} GROUP BY invoice_no) s ON s.invoice_no = f.invoice_no`,
      `WHERE NOT EXISTS (SELECT 1 FROM ${segments} e WHERE e.invoice_no = f.invoice_no AND e.source_file = ${file});`,
    ].join('\n'),
    ...postgres(`ANALYZE ${segments};`),
    `DELETE FROM ${loads} WHERE source_file = ${file};`,
    `INSERT INTO ${loads} (source_file, lines, rejected, merged_at) VALUES (${file}, ${counts.lines}, ${counts.rejected}, ${now});`,
    ...mergeStagedStatements(dialect, batchFileStagedRows(dialect, sourceFile)),
  ];
}

/**
 * One dump file's staged lines as the merge reads them: numbered by their segment (line_in_file becomes line_no), read
 * straight from the batch staging table (no copy through the stream's staging table), removed once merged.
 *
 * Removed how: on Redshift a DELETE of the file's lines (TRUNCATE would commit the job's transaction half way). On
 * Postgres the table is TRUNCATEd when no other dump's lines are staged in it, else the file's lines are deleted: a
 * DELETE leaves dead rows, and with no autovacuum (the embedded warehouse) they made the next COPY into the table 2-3x
 * slower. The ACCESS EXCLUSIVE lock comes first, so another dump's COPY either committed before the check (its lines
 * are seen, nothing is truncated) or waits for this transaction to end. (A file name with `$` in it keeps the DELETE:
 * it sits inside a dollar-quoted block.)
 */
export function batchFileStagedRows(dialect: WarehouseDialect, sourceFile: string): StagedRows {
  const file = sqlLiteral(sourceFile);
  const { staging, segments } = BATCH_TABLES;
  const columns = WAREHOUSE_COLUMNS.map((c) => (c.name === 'line_no' ? 'g.first_line_no + b.line_in_file - 1 AS line_no' : `b.${c.name}`));
  const deleteFile = `DELETE FROM ${staging} WHERE source_file = ${file};`;
  const truncateWhenAlone = [
    `LOCK TABLE ${staging} IN ACCESS EXCLUSIVE MODE;`,
    `DO $$ BEGIN IF EXISTS (SELECT 1 FROM ${staging} WHERE source_file <> ${file}) THEN ${deleteFile} ELSE TRUNCATE ${staging}; END IF; END $$;`,
  ];
  return {
    from: [
      `(SELECT ${columns.join(', ')}, b.loaded_at`,
      `  FROM ${staging} b JOIN ${segments} g ON g.invoice_no = b.invoice_no AND g.source_file = b.source_file`,
      `  WHERE b.source_file = ${file})`,
    ].join('\n'),
    consumed: dialect === 'postgres' && !sourceFile.includes('$') ? truncateWhenAlone : [deleteFile],
  };
}

/** Before a file's lines are staged: whatever an earlier, failed run of the same file left in staging goes. */
export function batchFileReplaceStatements(sourceFile: string): string[] {
  return [`DELETE FROM ${BATCH_TABLES.staging} WHERE source_file = ${sqlLiteral(sourceFile)};`];
}

/** What the warehouse holds of some dump files (reconciliation of the batch path). */
export interface BatchFilesTotals {
  /** Files of the list with a recorded load. */
  files: number;
  /** Lines and rejected rows their loads recorded. */
  linesRecorded: number;
  rejected: number;
  /** Lines in invoice_lines within those files' segments, their invoices and exact revenue (3 decimals). */
  lines: number;
  invoices: number;
  revenue: string;
}

/**
 * Postgres query of BatchFilesTotals for the dump files named by $1 (a text array): the loads recorded for them, and
 * the lines invoice_lines holds within their segments (a line stays counted if the stream later delivered it again).
 */
export const BATCH_FILES_TOTALS_SQL = [
  `SELECT (SELECT count(*) FROM ${BATCH_TABLES.loads} WHERE source_file = ANY($1))::int AS files,`,
  `  (SELECT coalesce(sum(lines), 0) FROM ${BATCH_TABLES.loads} WHERE source_file = ANY($1))::int AS "linesRecorded",`,
  `  (SELECT coalesce(sum(rejected), 0) FROM ${BATCH_TABLES.loads} WHERE source_file = ANY($1))::int AS rejected,`,
  `  count(l.invoice_no)::int AS lines, count(DISTINCT l.invoice_no)::int AS invoices, coalesce(sum(l.line_total), 0)::numeric(20,3)::text AS revenue`,
  `FROM ${BATCH_TABLES.segments} g`,
  `JOIN ${WAREHOUSE_TABLES.lines} l ON l.invoice_no = g.invoice_no AND l.line_no BETWEEN g.first_line_no AND g.first_line_no + g.line_count - 1`,
  `WHERE g.source_file = ANY($1)`,
].join('\n');
