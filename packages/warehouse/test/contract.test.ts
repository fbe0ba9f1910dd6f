import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { normaliseInvoice } from '@invoice-pipeline/transactions';
import { mergeStagedStatements, redshiftDdl, toWarehouseRow, WAREHOUSE_COLUMNS, WAREHOUSE_TABLES, WAREHOUSE_MIGRATIONS } from '../src';
import { REDSHIFT_DDL_FILE } from '../src/emit-ddl';

// serverless.yml takes the staging table and Firehose's COPY column list from here (plain CommonJS, as `sls` loads it).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const forServerless = require('../serverless.js') as { stagingTable: string; copyColumns: string };

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
    const row = toWarehouseRow(line!);
    expect(Object.keys(row).sort()).toEqual(WAREHOUSE_COLUMNS.map((c) => c.name).sort());
    expect(row).toMatchObject({ invoice_no: '536365', line_no: 1, line_total: '15.3', unit_price: '2.55' });
  });

  it('gives serverless.yml the staging table and COPY columns the migrations create', () => {
    expect(forServerless.stagingTable).toBe(WAREHOUSE_TABLES.staging);
    expect(forServerless.copyColumns.split(',')).toEqual(WAREHOUSE_COLUMNS.map((c) => c.name));
    const staging = WAREHOUSE_MIGRATIONS[0]!.statements('redshift')[1]!;
    for (const column of forServerless.copyColumns.split(',')) expect(staging).toContain(`  ${column} `);
  });

  it('merges on the line identity in both dialects', () => {
    for (const dialect of ['postgres', 'redshift'] as const) {
      const [lock, merge, clear] = mergeStagedStatements(dialect);
      expect(lock).toContain(WAREHOUSE_TABLES.staging);
      expect(merge).toContain(`ON ${WAREHOUSE_TABLES.lines}.invoice_no = src.invoice_no AND ${WAREHOUSE_TABLES.lines}.line_no = src.line_no`);
      expect(clear).toBe(`DELETE FROM ${WAREHOUSE_TABLES.staging};`);
    }
  });

  it('docs/warehouse/redshift.sql is what the contract generates (run `pnpm openapi` if this fails)', () => {
    expect(REDSHIFT_DDL_FILE).toBe(resolve(__dirname, '../../../docs/warehouse/redshift.sql'));
    expect(readFileSync(REDSHIFT_DDL_FILE, 'utf8')).toBe(redshiftDdl());
  });
});
