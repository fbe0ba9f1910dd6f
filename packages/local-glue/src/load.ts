import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { BadRow } from '@invoice-pipeline/transactions/files';
import { batchFileReplaceStatements, BATCH_SOURCE_COLUMNS, BATCH_STAGING_COLUMNS, BATCH_TABLES, mergeBatchFileStatements } from '@invoice-pipeline/warehouse';
import { checkDumpHeader, DEFAULT_CLASSIFIER, type CsvClassifier } from './crawler';
import { DuckDbTransform } from './transform';

/** What loading a dump needs of the warehouse (the local stack's Warehouse has it). */
export interface BatchWarehouse {
  copyRows(table: string, columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): Promise<void>;
  /** COPY of CSV bytes, where the warehouse session can (the embedded one): the fast path, used when present. */
  readonly copyCsv?: (table: string, columns: readonly string[], csv: Uint8Array) => Promise<void>;
  runStatements(statements: readonly string[]): Promise<void>;
}

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
  /** Time spent in the crawler step and transform, and in staging + merge (ms). */
  timings: { transformMs: number; loadMs: number };
}

/**
 * What the Glue job does for one dump file, offline: the crawler's header check, the Spark SQL transform (on
 * DuckDB), then staging of the file's lines (after removing any a failed run left) and the merge of exactly that
 * file in one transaction. Loading the same file again changes nothing.
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
    await options.warehouse.runStatements(batchFileReplaceStatements(file));
    const columns = [...BATCH_STAGING_COLUMNS, ...BATCH_SOURCE_COLUMNS];
    const { copyCsv } = options.warehouse;
    if (copyCsv) {
      // DuckDB writes the lines as COPY's CSV and the warehouse COPYs the bytes: no JS object per line.
      const scratch = await mkdtemp(join(tmpdir(), 'dump-lines-'));
      try {
        const csv = join(scratch, 'lines.csv');
        await transform.writeLinesCsv(csv, columns);
        await copyCsv(BATCH_TABLES.staging, columns, await readFile(csv));
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
      options.onProgress?.(total, total);
    } else {
      let staged = 0;
      for await (const page of transform.linePages()) {
        await options.warehouse.copyRows(BATCH_TABLES.staging, columns, page as unknown as Record<string, unknown>[]);
        staged += page.length;
        options.onProgress?.(staged, total);
      }
    }
    await options.warehouse.runStatements(mergeBatchFileStatements('postgres', file, { lines: total, rejected: badRows.length }));
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
