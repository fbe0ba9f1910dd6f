import { normaliseInvoice, recordVersion, type Invoice } from '@invoice-pipeline/transactions';
import { toWarehouseRow, WAREHOUSE_COLUMNS, WAREHOUSE_TABLES } from '@invoice-pipeline/warehouse';
import type { Warehouse } from '@invoice-pipeline/warehouse/postgres';
import { startTestWarehouse, warehouseEngines } from './test-warehouse';

const columns = WAREHOUSE_COLUMNS.map((c) => c.name);
let invoiceNo = '536365';
const invoice = (lines: number, price = '1.5'): Invoice => ({
  invoiceNo,
  invoiceDate: '2010-12-01T08:26:00',
  customerId: '17850',
  country: 'United Kingdom',
  storeId: 'online',
  lines: Array.from({ length: lines }, (_, i) => ({ stockCode: `S${i}`, description: null, quantity: i + 1, unitPrice: price })),
});
const rows = (source: Invoice, sequenceNumber: string) =>
  normaliseInvoice(source).map((line) => toWarehouseRow(line, recordVersion(sequenceNumber))) as unknown as Record<string, unknown>[];

describe.each(warehouseEngines)('the versioned merge on the %s warehouse', (engine) => {
  let warehouse: Warehouse;
  const landed = async () =>
    warehouse.query<{ n: number; revenue: string; versions: string }>(
      `SELECT count(*)::int AS n, sum(line_total)::text AS revenue, string_agg(DISTINCT ltrim(record_version, '0'), ',') AS versions FROM ${WAREHOUSE_TABLES.lines} WHERE invoice_no = $1`,
      [invoiceNo],
    );

  beforeAll(async () => {
    warehouse = await startTestWarehouse(engine);
  }, 60_000);
  beforeEach(() => {
    invoiceNo = String(Number(invoiceNo) + 1);
  });
  afterAll(async () => {
    await warehouse?.close();
  });

  it('replaces an invoice re-sent with fewer lines whole: the lines it no longer has are deleted', async () => {
    await warehouse.copyRows(WAREHOUSE_TABLES.staging, columns, rows(invoice(5), '100'));
    await warehouse.mergeStaged();
    expect(await landed()).toEqual([{ n: 5, revenue: '22.500', versions: '100' }]);
    await warehouse.copyRows(WAREHOUSE_TABLES.staging, columns, rows(invoice(2, '2'), '200'));
    await warehouse.mergeStaged();
    expect(await landed()).toEqual([{ n: 2, revenue: '6.000', versions: '200' }]);
  });

  it('never lets an older version win, in one staging load or across merges, whatever the load order', async () => {
    // Both versions staged together, the older one loaded last (one COPY time cannot order them).
    await warehouse.copyRows(WAREHOUSE_TABLES.staging, columns, rows(invoice(2, '2'), '99999999999999999999'));
    await warehouse.copyRows(WAREHOUSE_TABLES.staging, columns, rows(invoice(5), '100000000000000000000'));
    await warehouse.copyRows(WAREHOUSE_TABLES.staging, columns, rows(invoice(3, '7'), '9'));
    await warehouse.mergeStaged();
    expect(await landed()).toEqual([{ n: 5, revenue: '22.500', versions: '100000000000000000000' }]);
    // The older version arrives again later (a replay): nothing changes, and staging is emptied.
    await warehouse.copyRows(WAREHOUSE_TABLES.staging, columns, rows(invoice(2, '2'), '99999999999999999999'));
    await warehouse.mergeStaged();
    expect(await landed()).toEqual([{ n: 5, revenue: '22.500', versions: '100000000000000000000' }]);
    expect(await warehouse.query(`SELECT count(*)::int AS n FROM ${WAREHOUSE_TABLES.staging}`)).toEqual([{ n: 0 }]);
  });

  it('collapses a redelivered load of the same version to one row per line', async () => {
    for (let copy = 0; copy < 3; copy += 1) await warehouse.copyRows(WAREHOUSE_TABLES.staging, columns, rows(invoice(4), '7'));
    await warehouse.mergeStaged();
    await warehouse.copyRows(WAREHOUSE_TABLES.staging, columns, rows(invoice(4), '7'));
    await warehouse.mergeStaged();
    expect(await landed()).toEqual([{ n: 4, revenue: '15.000', versions: '7' }]);
  });
});
