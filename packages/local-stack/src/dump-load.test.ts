import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DumpRefused, loadDumpFile, type BatchWarehouse } from '@invoice-pipeline/local-glue';
import { normaliseInvoice, recordVersion } from '@invoice-pipeline/transactions';
import { BUNDLED_SAMPLES, CSV_HEADER, groupInvoices, readSource } from '@invoice-pipeline/transactions/files';
import { BATCH_SOURCE_COLUMNS, BATCH_STAGING_COLUMNS, BATCH_TABLES, mergeBatchFileStatements, toWarehouseRow, WAREHOUSE_COLUMNS, WAREHOUSE_TABLES } from '@invoice-pipeline/warehouse';
import { startEmbeddedWarehouse, type Warehouse } from './warehouse';

// The local Glue's load (packages/local-glue) into the embedded warehouse: the batch path's warehouse side.
const HEADER = CSV_HEADER.join(',');

const LINE_COLUMNS = WAREHOUSE_COLUMNS.map((c) => c.name);

/** The warehouse's lines, values as text, without the load-time column. */
async function warehouseLines(warehouse: Warehouse) {
  return warehouse.query<Record<string, unknown>>(
    `SELECT invoice_no, line_no, invoice_type, to_char(invoice_date, 'YYYY-MM-DD"T"HH24:MI:SS') AS invoice_date, customer_id, country, store_id,
       stock_code, description, quantity, unit_price::text AS unit_price, line_total::text AS line_total
     FROM ${WAREHOUSE_TABLES.lines} ORDER BY invoice_no, line_no`,
  );
}

async function totals(warehouse: Warehouse) {
  const [row] = await warehouse.query<{ lines: number; invoices: number; revenue: string }>(
    `SELECT count(*)::int AS lines, count(DISTINCT invoice_no)::int AS invoices, coalesce(sum(line_total), 0)::text AS revenue FROM ${WAREHOUSE_TABLES.lines}`,
  );
  return row;
}

async function emptyWarehouse(warehouse: Warehouse) {
  await warehouse.runStatements([`DELETE FROM ${WAREHOUSE_TABLES.lines}`, 'DELETE FROM batch_invoice_segments', 'DELETE FROM batch_loads']);
}

const dump = (...rows: string[]) => [HEADER, ...rows].join('\n') + '\n';
const row = (invoiceNo: string, stockCode: string, quantity: number, price: string, minute = '26') =>
  `${invoiceNo},${stockCode},ITEM ${stockCode},${quantity},2010-12-01 08:${minute}:00,${price},17850.0,United Kingdom`;

describe('loading dumps into the warehouse (local Glue on the embedded warehouse)', () => {
  let warehouse: Warehouse;
  let dir: string;
  const files = {
    write: async (name: string, content: string) => {
      await writeFile(join(dir, name), content);
      return join(dir, name);
    },
  };
  beforeAll(async () => {
    warehouse = await startEmbeddedWarehouse({});
    dir = await mkdtemp(join(tmpdir(), 'dump-load-'));
  }, 180_000);
  afterAll(async () => {
    await warehouse?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => emptyWarehouse(warehouse));

  it('lands an invoice cut across two hourly dumps exactly once, numbered as one invoice; re-loading either file changes nothing', async () => {
    const whole = [row('536365', 'A', 1, '1.5'), row('536365', 'B', 2, '2.5'), row('536365', 'C', 3, '3.5'), row('536366', 'D', 4, '4.5')];
    const first = await files.write('09.csv', dump(whole[0] as string, whole[1] as string));
    const second = await files.write('10.csv', dump(whole[2] as string, whole[3] as string));
    const oneFile = await files.write('whole.csv', dump(...whole));

    await loadDumpFile({ path: oneFile, sourceFile: 'incoming/whole.csv', warehouse });
    const fromOneFile = await warehouseLines(warehouse);
    await emptyWarehouse(warehouse);

    await loadDumpFile({ path: first, sourceFile: 'incoming/09.csv', warehouse });
    await loadDumpFile({ path: second, sourceFile: 'incoming/10.csv', warehouse });
    const split = await warehouseLines(warehouse);
    expect(split.map((l) => [l.invoice_no, l.line_no, l.stock_code])).toEqual([
      ['536365', 1, 'A'],
      ['536365', 2, 'B'],
      ['536365', 3, 'C'],
      ['536366', 1, 'D'],
    ]);
    expect(split).toEqual(fromOneFile);

    // A re-upload of either file (the S3 event fires again) reuses its line numbers.
    await loadDumpFile({ path: second, sourceFile: 'incoming/10.csv', warehouse });
    await loadDumpFile({ path: first, sourceFile: 'incoming/09.csv', warehouse });
    expect(await warehouseLines(warehouse)).toEqual(split);
    expect(await warehouse.query('SELECT source_file, lines, rejected FROM batch_loads ORDER BY source_file')).toEqual([
      { source_file: 'incoming/09.csv', lines: 2, rejected: 0 },
      { source_file: 'incoming/10.csv', lines: 2, rejected: 0 },
    ]);
    expect(await warehouse.query('SELECT count(*)::int AS n FROM invoice_lines_batch_staging')).toEqual([{ n: 0 }]);
  }, 120_000);

  it('lands a cut invoice once when its two dumps load together, and again together changes nothing', async () => {
    const first = await files.write('t09.csv', dump(row('536365', 'A', 1, '1.5'), row('536365', 'B', 2, '2.5'), row('536367', 'E', 5, '5.5')));
    const second = await files.write('t10.csv', dump(row('536365', 'C', 3, '3.5'), row('536366', 'D', 4, '4.5')));
    const both = () => Promise.all([loadDumpFile({ path: first, sourceFile: 'incoming/t09.csv', warehouse }), loadDumpFile({ path: second, sourceFile: 'incoming/t10.csv', warehouse })]);
    await both();
    const lines = await warehouseLines(warehouse);
    // Whichever merges first numbers its part of 536365 first; every line lands once, no number collides.
    expect(lines.filter((l) => l.invoice_no === '536365').map((l) => l.line_no)).toEqual([1, 2, 3]);
    expect(lines.map((l) => l.stock_code).sort()).toEqual(['A', 'B', 'C', 'D', 'E']);
    await both();
    expect(await warehouseLines(warehouse)).toEqual(lines);
    expect(await totals(warehouse)).toEqual({ lines: 5, invoices: 3, revenue: '62.500' });
  }, 120_000);

  it('leaves nothing of a load that fails part way (after its fresh lines were COPYed), and the re-run lands it once', async () => {
    const path = await files.write('half.csv', dump(row('536365', 'A', 1, '1.5'), row('536365', 'B', 2, '2.5'), row('536366', 'D', 4, '4.5')));
    const failing = (fails: (sql: string) => boolean): BatchWarehouse => ({
      copyRows: (table, columns, rows) => warehouse.copyRows(table, columns, rows),
      copyCsv: warehouse.copyCsv,
      runStatements: (statements) => warehouse.runStatements(statements),
      transaction: (work) =>
        warehouse.transaction((tx) =>
          work({
            query: (sql) => (fails(sql) ? Promise.reject(new Error('connection lost')) : tx.query(sql)),
            copyCsv: (table, columns, csv) => tx.copyCsv?.(table, columns, csv) ?? Promise.reject(new Error('no COPY')),
          }),
        ),
    });
    const nothingLanded = async () => {
      expect(await totals(warehouse)).toEqual({ lines: 0, invoices: 0, revenue: '0' });
      expect(await warehouse.query('SELECT (SELECT count(*) FROM batch_invoice_segments)::int AS segments, (SELECT count(*) FROM batch_loads)::int AS loads')).toEqual([{ segments: 0, loads: 0 }]);
    };
    await expect(loadDumpFile({ path, sourceFile: 'incoming/half.csv', warehouse: failing((sql) => sql.startsWith('MERGE INTO')) })).rejects.toThrow('connection lost');
    await nothingLanded();
    await expect(loadDumpFile({ path, sourceFile: 'incoming/half.csv', warehouse: failing((sql) => sql.startsWith('DROP TABLE invoice_lines_merge_versions')) })).rejects.toThrow('connection lost');
    await nothingLanded();
    await loadDumpFile({ path, sourceFile: 'incoming/half.csv', warehouse });
    expect((await warehouseLines(warehouse)).map((l) => [l.invoice_no, l.line_no, l.stock_code])).toEqual([
      ['536365', 1, 'A'],
      ['536365', 2, 'B'],
      ['536366', 1, 'D'],
    ]);
  }, 120_000);

  it('merges the invoices of a dump the stream already delivered and COPYs the others: the rows either path alone gives', async () => {
    // 536365 came through the stream (a newer version than any dump); the dump repeats it beside two new invoices.
    const streamed = [row('536365', 'A', 1, '1.5'), row('536365', 'B', 2, '2.5')];
    const streamRows: Record<string, unknown>[] = [];
    const streamPath = await files.write('streamed.csv', dump(...streamed));
    for await (const item of groupInvoices(readSource(streamPath))) if (item.kind === 'invoice') streamRows.push(...normaliseInvoice(item.invoice).map((line) => ({ ...toWarehouseRow(line, recordVersion('7')) })));
    await warehouse.copyRows(WAREHOUSE_TABLES.staging, LINE_COLUMNS, streamRows);
    await warehouse.mergeStaged();
    const mixed = await files.write('mixed.csv', dump(row('536364', 'Z', 9, '0.5'), ...streamed, row('536366', 'D', 4, '4.5'), row('536366', 'E', 1, '1')));
    await loadDumpFile({ path: mixed, sourceFile: 'incoming/mixed.csv', warehouse });
    const viaBoth = await warehouseLines(warehouse);
    const versions = await warehouse.query(`SELECT invoice_no, min(record_version) = max(record_version) AS one, max(record_version) <> '' AS streamed FROM ${WAREHOUSE_TABLES.lines} GROUP BY invoice_no ORDER BY invoice_no`);
    expect(versions).toEqual([
      { invoice_no: '536364', one: true, streamed: false },
      { invoice_no: '536365', one: true, streamed: true },
      { invoice_no: '536366', one: true, streamed: false },
    ]);
    await emptyWarehouse(warehouse);
    await loadDumpFile({ path: mixed, sourceFile: 'incoming/mixed.csv', warehouse });
    expect(await warehouseLines(warehouse)).toEqual(viaBoth);
    expect(await warehouse.query(`SELECT count(*)::int AS n FROM ${BATCH_TABLES.staging}`)).toEqual([{ n: 0 }]);
  }, 120_000);

  it('gives the rows the stream path gives; a dump of rows the stream delivered, and a replay after a dump, change no total', async () => {
    const path = BUNDLED_SAMPLES.kaggleHead;
    // The stream path: the reader's invoices, normalised as the stream processor does, staged and merged.
    const streamRows: Record<string, unknown>[] = [];
    for await (const item of groupInvoices(readSource(path))) if (item.kind === 'invoice') streamRows.push(...normaliseInvoice(item.invoice).map((line) => ({ ...toWarehouseRow(line, recordVersion('1')) })));
    const stream = async () => {
      await warehouse.copyRows(WAREHOUSE_TABLES.staging, LINE_COLUMNS, streamRows);
      await warehouse.mergeStaged();
    };
    await stream();
    const viaStream = await warehouseLines(warehouse);
    const streamTotals = await totals(warehouse);
    expect(streamTotals?.lines).toBe(1071);

    await loadDumpFile({ path, warehouse });
    expect(await totals(warehouse)).toEqual(streamTotals);
    expect(await warehouseLines(warehouse)).toEqual(viaStream);

    await emptyWarehouse(warehouse);
    await loadDumpFile({ path, warehouse });
    expect(await warehouseLines(warehouse)).toEqual(viaStream);
    await stream();
    expect(await totals(warehouse)).toEqual(streamTotals);
  }, 120_000);

  it("leaves batch staging empty and unlogged after a load, and a merge never touches another dump's staged lines", async () => {
    // Unlogged on Postgres (no WAL for the COPY), and truncated once empty: a DELETE would leave dead rows that make the
    // next COPY several times slower (no autovacuum on the embedded warehouse).
    const path = await files.write('one.csv', dump(row('536365', 'A', 1, '1.5'), row('536366', 'B', 2, '2.5')));
    await loadDumpFile({ path, sourceFile: 'incoming/one.csv', warehouse });
    expect(await warehouse.query(`SELECT relpersistence, pg_relation_size(oid)::int AS bytes FROM pg_class WHERE relname = '${BATCH_TABLES.staging}'`)).toEqual([{ relpersistence: 'u', bytes: 0 }]);

    // Two dumps staged before either merges (the COPY and the merge are two transactions here): merging one keeps the other's lines.
    const staged = (file: string, invoiceNo: string) => ({
      invoice_no: invoiceNo, invoice_type: 'sale', invoice_date: '2010-12-01T08:26:00', customer_id: '17850', country: 'United Kingdom', store_id: 'online',
      stock_code: 'A', description: null, quantity: 1, unit_price: '1.5', line_total: '1.5', source_file: file, source_line: 2, line_in_file: 1,
    });
    const columns = [...BATCH_STAGING_COLUMNS, ...BATCH_SOURCE_COLUMNS];
    await warehouse.copyRows(BATCH_TABLES.staging, columns, [staged('incoming/a.csv', '600001')]);
    await warehouse.copyRows(BATCH_TABLES.staging, columns, [staged('incoming/b.csv', '600002')]);
    await warehouse.runStatements(mergeBatchFileStatements('postgres', 'incoming/a.csv', { lines: 1, rejected: 0 }));
    expect(await warehouse.query(`SELECT source_file FROM ${BATCH_TABLES.staging}`)).toEqual([{ source_file: 'incoming/b.csv' }]);
    await warehouse.runStatements(mergeBatchFileStatements('postgres', 'incoming/b.csv', { lines: 1, rejected: 0 }));
    expect(await warehouse.query(`SELECT count(*)::int AS n FROM ${BATCH_TABLES.staging}`)).toEqual([{ n: 0 }]);
    expect((await warehouseLines(warehouse)).filter((l) => String(l.invoice_no).startsWith('6000')).map((l) => [l.invoice_no, l.line_no])).toEqual([
      ['600001', 1],
      ['600002', 1],
    ]);
  }, 60_000);

  it('builds invoice_lines\' key and indexes after a load larger than the table, exactly as the migrations define them', async () => {
    const indexes = () => warehouse.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE tablename = '${WAREHOUSE_TABLES.lines}' ORDER BY indexname`);
    const before = await indexes();
    expect(before.length).toBeGreaterThanOrEqual(3);
    const path = await files.write('rebuilt.csv', dump(row('580001', 'A', 1, '1.00'), row('580001', 'B', 2, '2.00'), row('580002', 'C', 3, '3.00')));
    expect((await loadDumpFile({ path, sourceFile: 'incoming/rebuilt.csv', warehouse })).linesLoaded).toBe(3);
    expect(await indexes()).toEqual(before);
    // The key holds again: a second copy of a landed line is refused.
    await expect(warehouse.query(`INSERT INTO ${WAREHOUSE_TABLES.lines} SELECT * FROM ${WAREHOUSE_TABLES.lines} WHERE invoice_no = '580001' AND line_no = 1`)).rejects.toThrow(/duplicate key/);
  });

  it('refuses a dump with a drifted header, with the reason, and loads nothing of it', async () => {
    const path = await files.write('drift.csv', dump(row('536365', 'A', 1, '1.5')).replace('CustomerID', 'Customer ID'));
    await expect(loadDumpFile({ path, warehouse })).rejects.toThrow(DumpRefused);
    await expect(loadDumpFile({ path, warehouse })).rejects.toThrow(/missing CustomerID; unexpected "Customer ID"/);
    expect(await totals(warehouse)).toEqual({ lines: 0, invoices: 0, revenue: '0' });
  }, 60_000);

  it('reports garbage lines with file, line, field and reason and loads the rest', async () => {
    const path = await files.write('garbage.csv', dump(row('536365', 'A', 1, '1.5'), 'not,a,row', '%%%%', row('536365', 'B', 2, 'two'), row('536365', 'C', 3, '3.5')));
    const report = await loadDumpFile({ path, sourceFile: 'incoming/garbage.csv', warehouse });
    expect(report).toMatchObject({ rowsRead: 5, linesLoaded: 2, rowsRejected: 3 });
    expect(report.badRows.map((b) => [b.file, b.line, b.field])).toEqual([
      ['incoming/garbage.csv', 3, '(row)'],
      ['incoming/garbage.csv', 4, '(row)'],
      ['incoming/garbage.csv', 5, 'UnitPrice'],
    ]);
    expect((await warehouseLines(warehouse)).map((l) => [l.stock_code, l.line_no])).toEqual([
      ['A', 1],
      ['C', 2],
    ]);
  }, 60_000);

  it('loads the spreadsheet-rewritten tail sample (.csv.gz, three date styles)', async () => {
    const report = await loadDumpFile({ path: BUNDLED_SAMPLES.spreadsheetTail, warehouse });
    expect(report).toMatchObject({ rowsRejected: 0 });
    expect((await totals(warehouse))?.lines).toBe(report.linesLoaded);
    expect(report.linesLoaded).toBe(gunzipSync(readFileSync(BUNDLED_SAMPLES.spreadsheetTail)).toString('latin1').trim().split('\n').length - 1);
  }, 180_000);
});
