import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { BadRow } from '@invoice-pipeline/transactions/files';
import {
  batchFileLockStatements,
  batchFileReplaceStatements,
  BATCH_FILE_INVOICES,
  BATCH_FRESH_TABLE,
  BATCH_SOURCE_COLUMNS,
  BATCH_STAGING_COLUMNS,
  BATCH_TABLES,
  freshBatchInvoicesStatements,
  mergeBatchFileStatements,
  WAREHOUSE_COLUMNS,
  WAREHOUSE_TABLES,
} from '@invoice-pipeline/warehouse';
import { checkDumpHeader, DEFAULT_CLASSIFIER, type CsvClassifier } from './crawler';
import { DuckDbTransform } from './transform';

/** One warehouse transaction, as loading a dump uses it. */
export interface BatchTransaction {
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  copyCsv?(table: string, columns: readonly string[], csv: Uint8Array): Promise<void>;
}

/** What loading a dump needs of the warehouse (the local stack's Warehouse has it). */
export interface BatchWarehouse {
  copyRows(table: string, columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): Promise<void>;
  /** COPY of CSV bytes, where the warehouse session can (the embedded one): with transaction, the fast path. */
  readonly copyCsv?: (table: string, columns: readonly string[], csv: Uint8Array) => Promise<void>;
  transaction?<T>(work: (tx: BatchTransaction) => Promise<T>): Promise<T>;
  runStatements(statements: readonly string[]): Promise<void>;
}

/**
 * Runs `copy` (a bulk load of `rows` rows into `table`) with the table's indexes built afterwards instead of kept up row
 * by row, when the load is at least as large as the table (Postgres's own advice for populating a table: "drop the
 * indexes, load the table, and then recreate the indexes"). The whole-dataset dump into an empty warehouse: COPY with
 * the key and two indexes 7.4-8.5 s, without them 3.8-3.9 s plus 1.4-1.6 s to build them. The definitions are read from
 * the catalog, so the migrations stay their one home; all of it is one transaction (a failure leaves every index as it
 * was), and the table is locked meanwhile (readers wait for the load, as they would for its COPY to commit).
 */
async function copyWithIndexesRebuilt(tx: BatchTransaction, table: string, rows: number, copy: () => Promise<void>): Promise<void> {
  if (rows === 0) return copy();
  // Counted only as far as the decision needs: the table may hold far more lines than the dump.
  const [{ lines = 0 } = {}] = await tx.query<{ lines: number }>(`SELECT count(*)::int AS lines FROM (SELECT 1 FROM ${table} LIMIT ${rows + 1}) counted`);
  if (Number(lines) > rows) return copy();
  const key = await tx.query<{ name: string; definition: string }>(
    `SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE conrelid = '${table}'::regclass AND contype = 'p'`,
  );
  const indexes = await tx.query<{ name: string; definition: string }>(
    `SELECT indexname AS name, indexdef AS definition FROM pg_indexes WHERE schemaname = current_schema() AND tablename = '${table}' AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = '${table}'::regclass)`,
  );
  for (const { name } of indexes) await tx.query(`DROP INDEX ${name}`);
  for (const { name } of key) await tx.query(`ALTER TABLE ${table} DROP CONSTRAINT ${name}`);
  await copy();
  for (const { name, definition } of key) await tx.query(`ALTER TABLE ${table} ADD CONSTRAINT ${name} ${definition}`);
  for (const { definition } of indexes) await tx.query(definition);
}

/** Columns of a fresh invoice's lines COPYed into invoice_lines: line_no is line_in_file, record_version its default (''). */
const FRESH_COLUMNS = WAREHOUSE_COLUMNS.map((c) => c.name).filter((name) => name !== 'record_version');

export interface LoadDumpOptions {
  /** Local path of the dump's bytes. */
  path: string;
  /** Its name in the warehouse and in bad rows: the S3 key in AWS (e.g. `incoming/2011-12-09.csv`). */
  sourceFile?: string;
  storeId?: string;
  warehouse: BatchWarehouse;
  classifier?: CsvClassifier;
  /** Called as lines are staged (loaded so far, total to load). */
  onProgress?: (staged: number, total: number) => void;
  /** Called with the dump's bad rows once the transform has run, before the warehouse is touched. */
  onBadRows?: (badRows: BadRow[]) => Promise<void>;
}

export interface DumpLoadReport {
  file: string;
  rowsRead: number;
  linesLoaded: number;
  rowsRejected: number;
  invoices: number;
  /** Exact revenue of the loaded lines, 3 decimals. */
  revenue: string;
  badRows: BadRow[];
  /** Time spent in the crawler step and transform, and in the warehouse (COPY, staging and merge) (ms). */
  timings: { transformMs: number; loadMs: number };
}

/**
 * What the Glue job does for one dump file, offline: the crawler's header check, the Spark SQL transform (on
 * DuckDB), then the load of exactly that file (after removing any lines a failed run left staged): its fresh invoices
 * inserted, the others staged and merged (mergeBatchFileStatements). Loading the same file again changes nothing.
 */
export async function loadDumpFile(options: LoadDumpOptions): Promise<DumpLoadReport> {
  const file = options.sourceFile ?? basename(options.path);
  const started = Date.now();
  await checkDumpHeader(options.path, file, options.classifier ?? DEFAULT_CLASSIFIER);
  const transform = await DuckDbTransform.create();
  try {
    await transform.addFile(options.path, file);
    await transform.transform({ storeId: options.storeId ?? 'online' });
    const [summary] = await transform.summaries();
    const badRows = await transform.badRows();
    const transformed = Date.now();
    const total = summary?.linesAccepted ?? 0;
    await options.onBadRows?.(badRows);
    const columns = [...BATCH_STAGING_COLUMNS, ...BATCH_SOURCE_COLUMNS];
    const counts = { lines: total, rejected: badRows.length };
    const { warehouse } = options;
    if (warehouse.copyCsv && warehouse.transaction) {
      // One transaction: under the merge's locks, the lines of invoices the warehouse has nothing of yet are COPYed
      // straight into invoice_lines (numbered 1..n, their segments given), and only the others are staged and merged.
      // The staging COPY and the MERGE's row-by-row inserts cost about two COPYs of the whole dump more.
      const scratch = await mkdtemp(join(tmpdir(), 'dump-lines-'));
      const csv = join(scratch, 'lines.csv');
      try {
        await warehouse.transaction(async (tx) => {
          const copy = async (table: string, copyColumns: readonly string[]) => {
            if (!tx.copyCsv) throw new Error('this warehouse session cannot COPY CSV');
            await tx.copyCsv(table, copyColumns, await readFile(csv));
          };
          for (const statement of [...batchFileLockStatements('postgres'), ...batchFileReplaceStatements(file), BATCH_FILE_INVOICES.create]) await tx.query(statement);
          await transform.writeInvoicesCsv(csv);
          await copy(BATCH_FILE_INVOICES.table, BATCH_FILE_INVOICES.columns);
          for (const statement of [`ANALYZE ${BATCH_FILE_INVOICES.table};`, ...freshBatchInvoicesStatements('postgres', file, BATCH_FILE_INVOICES.table)]) await tx.query(statement);
          const heldBack = (await tx.query<{ invoice_no: string }>(BATCH_FILE_INVOICES.notFresh)).map((row) => row.invoice_no);
          const [{ lines: freshLines = 0 } = {}] = await tx.query<{ lines: number }>(`SELECT coalesce(sum(line_count), 0)::int AS lines FROM ${BATCH_FRESH_TABLE};`);
          await transform.holdBack(heldBack);
          await transform.writeLinesCsv(csv, FRESH_COLUMNS, { as: { line_no: 'line_in_file' }, invoices: 'not held back' });
          await copyWithIndexesRebuilt(tx, WAREHOUSE_TABLES.lines, Number(freshLines), () => copy(WAREHOUSE_TABLES.lines, FRESH_COLUMNS));
          if (heldBack.length > 0) {
            await transform.writeLinesCsv(csv, columns, { invoices: 'held back' });
            await copy(BATCH_TABLES.staging, columns);
          }
          for (const statement of mergeBatchFileStatements('postgres', file, counts)) await tx.query(statement);
        });
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
      options.onProgress?.(total, total);
    } else {
      await warehouse.runStatements(batchFileReplaceStatements(file));
      let staged = 0;
      for await (const page of transform.linePages()) {
        await warehouse.copyRows(BATCH_TABLES.staging, columns, page as unknown as Record<string, unknown>[]);
        staged += page.length;
        options.onProgress?.(staged, total);
      }
      await warehouse.runStatements(mergeBatchFileStatements('postgres', file, counts));
    }
    return {
      file,
      rowsRead: summary?.rowsRead ?? 0,
      linesLoaded: total,
      rowsRejected: badRows.length,
      invoices: summary?.invoices ?? 0,
      revenue: summary?.revenue ?? '0.000',
      badRows,
      timings: { transformMs: transformed - started, loadMs: Date.now() - transformed },
    };
  } finally {
    transform.close();
  }
}
