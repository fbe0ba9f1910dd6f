import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { normaliseInvoice, recordVersion } from '@invoice-pipeline/transactions';
import { STAGED_COPY_COLUMNS, MERGE_SOURCE_TABLE, mergeStagedStatements, redshiftDdl, toWarehouseRow, warehouseRowProblems, WAREHOUSE_COLUMNS, WAREHOUSE_TABLES, WAREHOUSE_MIGRATIONS } from '../src';
import { REDSHIFT_DDL_FILE } from '../src/emit-ddl';

// serverless.yml takes the staging table and Firehose's COPY column list from here (plain CommonJS, as `sls` loads it).

describe('the warehouse contract', () => {
  it('maps a normalised line to a row with a column for every field', () => {
    const [line] = normaliseInvoice({
      invoiceNo: '536365',
      invoiceDate: '2010-12-01T08:26:00',
      customerId: '17850',
      country: 'United Kingdom',
      storeId: 'store-001',
      lines: [{ stockCode: '85123A', description: 'WHITE HANGING HEART T-LIGHT HOLDER', quantity: 6, unitPrice: '2.55' }],
    });
    const row = toWarehouseRow(line!, recordVersion('1'));
    expect(Object.keys(row).sort()).toEqual(WAREHOUSE_COLUMNS.map((c) => c.name).sort());
    expect(row).toMatchObject({ invoice_no: '536365', line_no: 1, line_total: '15.3', unit_price: '2.55' });
  });

  it('COPYs staged files into exactly the staging columns the migrations create', () => {
    expect(STAGED_COPY_COLUMNS).toEqual(WAREHOUSE_COLUMNS.map((c) => c.name));
    const ddl = WAREHOUSE_MIGRATIONS.flatMap((m) => m.statements('redshift')).filter((statement) => statement.includes(WAREHOUSE_TABLES.staging)).join('\n');
    for (const column of STAGED_COPY_COLUMNS) expect(ddl).toMatch(new RegExp(`(  |ADD COLUMN )${column} `));
  });

  it('merges on the line identity in both dialects', () => {
    for (const dialect of ['postgres', 'redshift'] as const) {
      const statements = mergeStagedStatements(dialect);
      expect(statements[0]).toContain(WAREHOUSE_TABLES.staging);
      const merge = statements.find((s) => s.startsWith('MERGE'));
      expect(merge).toContain(`ON ${WAREHOUSE_TABLES.lines}.invoice_no = src.invoice_no AND ${WAREHOUSE_TABLES.lines}.line_no = src.line_no`);
      // Postgres empties staging by TRUNCATE (no dead rows left for later scans), Redshift by DELETE (its TRUNCATE commits).
      expect(statements).toContain(dialect === 'postgres' ? `TRUNCATE ${WAREHOUSE_TABLES.staging};` : `DELETE FROM ${WAREHOUSE_TABLES.staging};`);
    }
  });

  it("merges from a temporary table on Redshift (its MERGE takes no subquery) and straight from the deduplicating query on Postgres", () => {
    const redshift = mergeStagedStatements('redshift');
    expect(redshift.find((s) => s.startsWith('MERGE'))).toMatch(new RegExp(`^MERGE INTO ${WAREHOUSE_TABLES.lines} USING ${MERGE_SOURCE_TABLE} AS src\n`));
    expect(redshift.filter((s) => s.startsWith(`CREATE TEMP TABLE ${MERGE_SOURCE_TABLE} AS`))).toHaveLength(1);
    expect(redshift).toContain(`DROP TABLE ${MERGE_SOURCE_TABLE};`);
    // On Postgres the source is not written to a table and read again: one write of the lines fewer per merge.
    const postgres = mergeStagedStatements('postgres');
    const merge = postgres.find((s) => s.startsWith('MERGE')) as string;
    expect(merge).toMatch(new RegExp(`^MERGE INTO ${WAREHOUSE_TABLES.lines} USING \\(\nSELECT ranked\\.invoice_no, `));
    expect(merge).toContain('ROW_NUMBER() OVER (PARTITION BY staged.invoice_no, staged.line_no');
    expect(postgres.join('\n')).not.toContain(MERGE_SOURCE_TABLE);
    // The deduplicating query is the same on both engines: the local runs test what Redshift runs.
    const redshiftSource = (redshift.find((s) => s.startsWith(`CREATE TEMP TABLE ${MERGE_SOURCE_TABLE} AS`)) as string).replace(/^.*\n/, '').replace(/;$/, '');
    expect(merge).toContain(`(\n${redshiftSource}\n) AS src`);
  });

  it('docs/warehouse/redshift.sql is what the contract generates (run `pnpm openapi` if this fails)', () => {
    expect(REDSHIFT_DDL_FILE).toBe(resolve(__dirname, '../../../docs/warehouse/redshift.sql'));
    expect(readFileSync(REDSHIFT_DDL_FILE, 'utf8')).toBe(redshiftDdl());
  });
});

describe('warehouseRowProblems', () => {
  const [line] = normaliseInvoice({
    invoiceNo: '536365',
    invoiceDate: '2010-12-01T08:26:00',
    customerId: null,
    country: 'United Kingdom',
    storeId: 'online',
    lines: [{ stockCode: '85123A', description: 'WHITE HANGING HEART T-LIGHT HOLDER', quantity: 6, unitPrice: '2.55' }],
  });
  const row = (overrides: Record<string, unknown>) => ({ ...toWarehouseRow(line!, recordVersion('1')), ...overrides });

  it('accepts what every column can store', () => {
    expect(warehouseRowProblems(row({}))).toEqual([]);
    expect(warehouseRowProblems(row({ unit_price: '-999999999999999.999', line_total: '99999999999999999.999' }))).toEqual([]);
  });

  it('names each value a column would refuse', () => {
    const problems = warehouseRowProblems(
      row({ unit_price: '1234567890123456.5', line_total: '0.0001', quantity: 2 ** 31, description: 'a\u0000b', country: 'x\uD800', stock_code: '£'.repeat(1001) }),
    );
    expect(problems.map((p) => p.path).sort()).toEqual(['country', 'description', 'line_total', 'quantity', 'stock_code', 'unit_price']);
  });

  it('counts a VARCHAR in UTF-8 bytes, up to its width exactly', () => {
    const width = Number(/\d+/.exec(WAREHOUSE_COLUMNS.find((c) => c.name === 'description')?.type ?? '')?.[0]);
    expect(warehouseRowProblems(row({ description: 'a'.repeat(width) }))).toEqual([]);
    expect(warehouseRowProblems(row({ description: 'a'.repeat(width + 1) })).map((p) => p.message)).toEqual([`${width + 1} bytes exceed VARCHAR(${width})`]);
    expect(warehouseRowProblems(row({ description: `${'a'.repeat(width - 2)}£` }))).toEqual([]);
    expect(warehouseRowProblems(row({ description: `${'a'.repeat(width - 1)}£` })).map((p) => p.path)).toEqual(['description']);
  });

  it('reads the record version column width from the same constant that pads versions', () => {
    expect(WAREHOUSE_COLUMNS.find((c) => c.name === 'record_version')?.type).toBe(`VARCHAR(${recordVersion('1').length})`);
  });
});
