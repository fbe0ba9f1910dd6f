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

/**
 * Statements that merge one dump file's staged lines, to run in one transaction after its lines were COPYed into
 * the batch staging table (preceded by batchFileReplaceStatements, so a re-run never doubles them).
 *
 * Line numbers: the transform numbers lines within (file, invoice). Each (invoice, file) pair is given a segment of
 * line numbers once, the first time that file is merged: after every segment the invoice already has. So an invoice
 * cut across two hourly dumps numbers on (lines 1-3 from the first file, 4-7 from the second), a re-run of a file
 * reuses its segment (changes nothing), and a whole invoice in one dump is numbered 1..n exactly as the stream path
 * numbers it. The rows then go through the stream path's own merge (mergeStagedStatements): one MERGE for both paths,
 * reading the file's lines straight from batch staging, numbered on the way (batchFileStagedRows).
 */
export function mergeBatchFileStatements(dialect: WarehouseDialect, sourceFile: string, counts: BatchFileCounts): string[] {
  const file = sqlLiteral(sourceFile);
  const now = dialect === 'redshift' ? 'GETDATE()' : 'now()';
  const lock = (table: string) => (dialect === 'redshift' ? `LOCK ${table};` : `LOCK TABLE ${table} IN EXCLUSIVE MODE;`);
  const { staging: batchStaging, segments, loads } = BATCH_TABLES;
  // Postgres only: statistics on the freshly staged rows. Without them (PGlite has no autovacuum) the planner takes
  // `source_file = <file>` to match 0.5% of an unanalysed table and joins staging to segments by a nested loop:
  // quadratic, 17 s for 20,000 lines, hours for the whole dataset. Redshift analyses new tables itself. And memory
  // for the merge's sorts and hashes (Postgres's default 4 MB spills a whole dump's sort to disk), this transaction only.
  const postgres = (...statements: string[]) => (dialect === 'postgres' ? statements : []);
  return [
    ...postgres(`SET LOCAL work_mem = '256MB';`),
    // Segments are handed out one file at a time, so two dumps merging together cannot take the same numbers.
    lock(segments),
    ...postgres(`ANALYZE ${batchStaging} (source_file, invoice_no);`),
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
