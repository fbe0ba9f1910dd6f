import { isUtf8 } from 'node:buffer';
import { open, readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { createGunzip } from 'node:zlib';
import { createReadStream } from 'node:fs';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { isGzipStart, type BadRow } from '@invoice-pipeline/transactions/files';
import type { WarehouseRow } from '@invoice-pipeline/warehouse';

/** The Glue job's transform, one Spark SQL file run unchanged here and by the PySpark job. */
export const TRANSFORM_SQL_PATH = resolve(__dirname, '../../../glue/transform.sql');

/** Columns the CSV reader hands the transform: the 8 of the header plus up to 4 extra fields, so a long row is seen. */
const RAW_FIELDS = Array.from({ length: 12 }, (_, index) => `c${String(index + 1).padStart(2, '0')}`);

/**
 * Spark spellings the transform uses, as DuckDB macros. `to_timestamp` takes only the one pattern the transform
 * passes (a strptime format must be a constant); anything else fails loudly rather than parse differently.
 */
const SPARK_MACROS = [
  `CREATE OR REPLACE TEMP MACRO rlike(text, pattern) AS regexp_matches(text, pattern)`,
  // Spark's octet_length takes a string (its UTF-8 bytes, what Redshift's VARCHAR counts); DuckDB's only a BLOB.
  `CREATE OR REPLACE TEMP MACRO octet_length(text) AS system.main.octet_length(encode(text))`,
  `CREATE OR REPLACE TEMP MACRO to_timestamp(text, pattern) AS CASE WHEN pattern = 'yyyy-MM-dd HH:mm:ss'
     THEN try_strptime(text, '%Y-%m-%d %H:%M:%S') ELSE error(concat('to_timestamp: unsupported pattern ', pattern)) END`,
];

/** A line the transform accepted, as the warehouse stages it (line_in_file becomes line_no at merge time). */
export type TransformedLine = Omit<WarehouseRow, 'line_no'> & {
  source_file: string;
  source_line: number;
  line_in_file: number;
};

export interface TransformSummary {
  file: string;
  rowsRead: number;
  linesAccepted: number;
  rowsRejected: number;
  invoices: number;
  /** Exact sum of line totals, 3 decimals. */
  revenue: string;
}

export interface DumpFileInfo {
  /** Whether the bytes are gzip (by magic bytes, not by name). */
  gzip: boolean;
  /** Non-empty lines of the (uncompressed) text, a last line without a line break included. */
  lines: number;
  /** `utf-8` when every byte sequence is valid UTF-8, otherwise `latin-1` (the Kaggle layout). */
  encoding: 'utf-8' | 'latin-1';
}

/** Looks at a dump's bytes: gzip by magic bytes, text encoding by strict UTF-8 validation of the whole content. */
export async function isGzipFile(path: string): Promise<boolean> {
  const handle = await open(path);
  const magic = Buffer.alloc(2);
  await handle.read(magic, 0, 2, 0);
  await handle.close();
  return isGzipStart(magic);
}

/** How many bytes at the end of `bytes` begin a UTF-8 sequence that continues in the next chunk (0 to 3). */
export function unfinishedUtf8Tail(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back += 1) {
    const byte = bytes[bytes.length - back] as number;
    if (byte < 0x80) return 0;
    if (byte >= 0xc0) return (byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2) > back ? back : 0;
  }
  return 0;
}

export async function inspectDumpFile(path: string): Promise<DumpFileInfo> {
  const gzip = await isGzipFile(path);
  const input = gzip ? createReadStream(path).pipe(createGunzip()) : createReadStream(path);
  let utf8 = true;
  // A sequence cut by the chunk boundary, validated with the next chunk.
  let carry: Buffer = Buffer.alloc(0);
  // Non-empty lines (the CSV reader skips empty ones): a line with any byte other than CR. Scanned by indexOf, not
  // byte by byte in JS (a whole-year dump is ~45 MB), and validated by isUtf8 without decoding to a string.
  let lines = 0;
  let lineHasText = false;
  for await (const chunk of input as AsyncIterable<Buffer>) {
    for (let at = 0; ; ) {
      const newline = chunk.indexOf(0x0a, at);
      const end = newline === -1 ? chunk.length : newline;
      for (let i = at; !lineHasText && i < end; i += 1) if (chunk[i] !== 0x0d) lineHasText = true;
      if (newline === -1) break;
      if (lineHasText) lines += 1;
      lineHasText = false;
      at = newline + 1;
    }
    if (utf8) {
      const bytes = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      const tail = unfinishedUtf8Tail(bytes);
      utf8 = isUtf8(bytes.subarray(0, bytes.length - tail));
      carry = Buffer.from(bytes.subarray(bytes.length - tail));
    }
  }
  return { gzip, lines: lines + (lineHasText ? 1 : 0), encoding: utf8 && carry.length === 0 ? 'utf-8' : 'latin-1' };
}

/** The invoices writeLinesCsv sets apart (holdBack). */
const HELD_BACK = 'held_back_invoices';

const sqlString = (text: string) => `'${text.replaceAll("'", "''")}'`;

/**
 * The DuckDB side of the transform: an in-memory database holding the raw rows of one or more dump files and the
 * transform's result (`transformed`). The PySpark job does the same with spark.read.csv and spark.sql.
 */
export class DuckDbTransform {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  static async create(): Promise<DuckDbTransform> {
    const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
    const connection = await instance.connect();
    for (const macro of SPARK_MACROS) await connection.run(macro);
    await connection.run(`CREATE TEMP TABLE raw_rows (source_file VARCHAR, source_line BIGINT, ${RAW_FIELDS.map((f) => `${f} VARCHAR`).join(', ')}, parse_error VARCHAR, parse_raw VARCHAR)`);
    return new DuckDbTransform(instance, connection);
  }

  /**
   * Adds a dump's records to raw_rows in file order. The header is line 1 and was checked by the crawler step.
   * Strict CSV: a record DuckDB cannot split (a stray or unclosed quote) comes back as a parse error at its line,
   * never as a silently altered value. Line numbers count records (no real dump has a line break inside a field).
   */
  async addFile(path: string, sourceFile = basename(path)): Promise<void> {
    const info = await inspectDumpFile(path);
    const columns = RAW_FIELDS.map((f) => `'${f}': 'VARCHAR'`).join(', ');
    const read = `read_csv(${sqlString(path)}, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', comment = '',
      columns = {${columns}}, null_padding = true, nullstr = '\u0001', strict_mode = true, store_rejects = true,
      rejects_table = 'dump_rejects', rejects_scan = 'dump_reject_scans', parallel = false,
      encoding = ${sqlString(info.encoding)}, compression = ${sqlString(info.gzip ? 'gzip' : 'none')}, max_line_size = 10000000)`;
    const c = this.connection;
    await c.run(`CREATE OR REPLACE TEMP TABLE dump_records AS SELECT * FROM ${read}`);
    await c.run(`CREATE OR REPLACE TEMP TABLE dump_errors AS
      SELECT line, min(error_message) AS error_message, min(csv_line) AS csv_line,
        line - 2 - (row_number() OVER (ORDER BY line) - 1) AS records_before
      FROM dump_rejects GROUP BY line`);
    // A good record's line is its position plus the rejected records before it.
    const [{ errors } = { errors: 0 }] = await this.rows<{ errors: number }>('SELECT count(*)::INTEGER AS errors FROM dump_errors');
    const line = errors === 0 ? 'r.rowid + 2' : 'r.rowid + 2 + (SELECT count(*) FROM dump_errors e WHERE e.records_before <= r.rowid)';
    // No ORDER BY: the transform orders by source_line wherever order matters, and a sort of the whole dump cost about
    // as much as reading it.
    await c.run(`INSERT INTO raw_rows SELECT ${sqlString(sourceFile)}, ${line}, ${RAW_FIELDS.join(', ')}, NULL, NULL FROM dump_records r`);
    await c.run(`INSERT INTO raw_rows (source_file, source_line, parse_error, parse_raw)
      SELECT ${sqlString(sourceFile)}, line, concat('unreadable CSV: ', error_message), csv_line FROM dump_errors`);
    // Lines the CSV reader consumed without yielding a record (an unclosed quote swallows the rest of the file) are
    // reported, never dropped silently.
    const [last] = await this.rows<{ line: number | null }>(`SELECT max(source_line)::INTEGER AS line FROM raw_rows WHERE source_file = ${sqlString(sourceFile)}`);
    const lastLine = last?.line ?? 1;
    if (info.lines > lastLine) {
      // DuckDB returns the unclosed record cut at its quote: it is replaced by one bad row, as the reader reports it.
      await c.run(`DELETE FROM raw_rows WHERE source_file = ${sqlString(sourceFile)} AND source_line = ${lastLine}`);
      const reason = `unreadable CSV: Quote Not Closed: the record of line ${lastLine} runs to the end of the file (line ${info.lines})`;
      await c.run(`INSERT INTO raw_rows (source_file, source_line, parse_error, parse_raw) VALUES (${sqlString(sourceFile)}, ${info.lines}, ${sqlString(reason)}, '')`);
    }
    await c.run(`DROP TABLE dump_records; DROP TABLE dump_errors; DROP TABLE IF EXISTS dump_rejects; DROP TABLE IF EXISTS dump_reject_scans`);
  }

  /** Runs glue/transform.sql over the raw rows into the `transformed` table. */
  async transform(options: { storeId: string }): Promise<void> {
    const sql = await readFile(TRANSFORM_SQL_PATH, 'utf8');
    await this.connection.run(`CREATE OR REPLACE TEMP TABLE load_params AS SELECT ${sqlString(options.storeId)} AS store_id`);
    await this.connection.run(`CREATE OR REPLACE TEMP TABLE transformed AS ${sql}`);
  }

  async summaries(): Promise<TransformSummary[]> {
    const rows = await this.rows<{ file: string; rowsRead: number; linesAccepted: number; rowsRejected: number; invoices: number; revenue: string }>(
      `SELECT source_file AS file, count(*)::INTEGER AS rowsRead, count(line_in_file)::INTEGER AS linesAccepted,
        count(reject_field)::INTEGER AS rowsRejected, count(DISTINCT invoice_no)::INTEGER AS invoices,
        CAST(coalesce(sum(line_total), 0)::DECIMAL(38,3) AS VARCHAR) AS revenue
       FROM transformed GROUP BY source_file ORDER BY source_file`,
    );
    return rows;
  }

  async lines(where = 'TRUE', from = 'transformed'): Promise<TransformedLine[]> {
    return this.rows<TransformedLine>(
      `SELECT source_file, source_line::INTEGER AS source_line, line_in_file::INTEGER AS line_in_file, invoice_no, invoice_type, invoice_date,
        customer_id, country, store_id, stock_code, description, quantity, CAST(unit_price AS VARCHAR) AS unit_price,
        CAST(line_total AS VARCHAR) AS line_total
       FROM ${from} WHERE reject_field IS NULL AND (${where}) ORDER BY source_file, source_line`,
    );
  }

  async badRows(): Promise<BadRow[]> {
    return this.rows<BadRow>(
      `SELECT source_file AS file, source_line::INTEGER AS line, reject_field AS field, reject_reason AS reason, raw
       FROM transformed WHERE reject_field IS NOT NULL ORDER BY source_file, source_line`,
    );
  }

  /**
   * Writes accepted lines to `path` as CSV for Postgres COPY (`FORMAT csv`: no header, every value quoted, NULL as an
   * unquoted empty field), `columns` in that order (a column maps to an expression through `as`): the lines go from
   * DuckDB to the warehouse without becoming JS objects. `invoices` keeps only the lines of the invoices held back
   * (holdBack), or all but theirs.
   */
  async writeLinesCsv(path: string, columns: readonly string[], options: { as?: Record<string, string>; invoices?: 'held back' | 'not held back' } = {}): Promise<void> {
    const list = columns.map((column) => `${options.as?.[column] ?? `"${column}"`} AS "${column}"`).join(', ');
    const held = `invoice_no IN (SELECT invoice_no FROM ${HELD_BACK})`;
    const invoices = options.invoices === 'held back' ? ` AND ${held}` : options.invoices === 'not held back' ? ` AND NOT ${held}` : '';
    await this.writeCsv(path, `SELECT ${list} FROM transformed WHERE reject_field IS NULL${invoices}`);
  }

  /** The accepted lines' invoices with their line count (invoice_no, line_count), as CSV for Postgres COPY. */
  async writeInvoicesCsv(path: string): Promise<void> {
    await this.writeCsv(path, 'SELECT invoice_no, max(line_in_file) AS line_count FROM transformed WHERE reject_field IS NULL GROUP BY invoice_no');
  }

  /** Invoices whose lines writeLinesCsv sets apart (replaces the previous list). */
  async holdBack(invoices: readonly string[]): Promise<void> {
    await this.connection.run(`CREATE OR REPLACE TABLE ${HELD_BACK} (invoice_no VARCHAR)`);
    const appender = await this.connection.createAppender(HELD_BACK);
    for (const invoice of invoices) {
      appender.appendVarchar(invoice);
      appender.endRow();
    }
    appender.closeSync();
  }

  private async writeCsv(path: string, select: string): Promise<void> {
    await this.connection.run(`COPY (${select}) TO ${sqlString(path)} (FORMAT csv, HEADER false, FORCE_QUOTE *)`);
  }

  /** Streams the accepted lines in pages (the whole dataset does not need to sit in JS memory at once). */
  async *linePages(pageSize = 50_000): AsyncGenerator<TransformedLine[]> {
    await this.connection.run(`CREATE OR REPLACE TEMP TABLE accepted AS SELECT row_number() OVER (ORDER BY source_file, source_line) AS page_key, * FROM transformed WHERE reject_field IS NULL`);
    for (let start = 0; ; start += pageSize) {
      const page = await this.lines(`page_key > ${start} AND page_key <= ${start + pageSize}`, 'accepted');
      if (page.length === 0) break;
      yield page;
    }
  }

  async rows<T>(sql: string): Promise<T[]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRowObjectsJS() as unknown as T[];
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
