import { formatMillisFixed, normaliseInvoice, parseMillis, recordVersion, sumDecimals, type Invoice } from '@invoice-pipeline/transactions';
import { toWarehouseRow, WAREHOUSE_COLUMNS, WAREHOUSE_TABLES } from '@invoice-pipeline/warehouse';
import { connectWarehouse, type Warehouse } from '@invoice-pipeline/warehouse/postgres';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startEmbeddedWarehouse } from './embedded';

const invoice: Invoice = {
  invoiceNo: '536365',
  invoiceDate: '2010-12-01T08:26:00',
  customerId: null,
  country: 'United Kingdom',
  storeId: 'online',
  lines: [
    { stockCode: '85123A', description: 'WHITE HANGING HEART T-LIGHT HOLDER', quantity: 6, unitPrice: '2.55' },
    { stockCode: '21756', description: 'RECORD FRAME 7" SINGLE SIZE ', quantity: 48, unitPrice: '2.1' },
    { stockCode: 'gift_0001_40', description: 'Dotcomgiftshop Gift Voucher £40.00', quantity: 1, unitPrice: '34.04' },
    { stockCode: 'B', description: null, quantity: 1, unitPrice: '-11062.06' },
  ],
};
const rows = normaliseInvoice(invoice).map((line) => toWarehouseRow(line, recordVersion('1'))) as unknown as Record<string, unknown>[];
const columns = WAREHOUSE_COLUMNS.map((c) => c.name);

describe('the embedded warehouse', () => {
  let warehouse: Warehouse;
  let client: Client;

  beforeAll(async () => {
    warehouse = await startEmbeddedWarehouse({});
    client = new Client({ connectionString: warehouse.url });
    await client.connect();
  }, 120_000); // PGlite compiles its WASM at start: slow on a loaded machine

  afterAll(async () => {
    await client?.end();
    await warehouse?.close();
  });

  it('is migrated once, idempotently', async () => {
    expect(await warehouse.migrate()).toEqual([]);
    const { rows: versions } = await client.query(`SELECT version FROM ${WAREHOUSE_TABLES.migrations} ORDER BY version`);
    expect(versions).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }, { version: 5 }, { version: 6 }, { version: 7 }]);
    // Both staging tables hold rows only inside a load's transaction: unlogged on Postgres (no WAL for their COPY).
    const { rows: persistence } = await client.query(`SELECT relname, relpersistence FROM pg_class WHERE relname IN ('${WAREHOUSE_TABLES.staging}', 'invoice_lines_batch_staging') ORDER BY relname`);
    expect(persistence).toEqual([{ relname: 'invoice_lines_batch_staging', relpersistence: 'u' }, { relname: WAREHOUSE_TABLES.staging, relpersistence: 'u' }]);
  });

  it('loads a COPY into staging and merges it exactly once, even when delivered twice', async () => {
    await warehouse.copyRows(WAREHOUSE_TABLES.staging, columns, rows);
    await warehouse.copyRows(WAREHOUSE_TABLES.staging, columns, rows); // at-least-once redelivery
    expect(await warehouse.mergeStaged()).toBe(8);
    await warehouse.copyRows(WAREHOUSE_TABLES.staging, columns, rows.slice(0, 2));
    expect(await warehouse.mergeStaged()).toBe(2);
    expect(await warehouse.mergeStaged()).toBe(0);

    // Read back over the wire protocol, as psql or a BI tool would.
    const { rows: lines } = await client.query(
      `SELECT invoice_no, line_no, description, quantity, unit_price::text, line_total::text, customer_id, to_char(invoice_date, 'YYYY-MM-DD"T"HH24:MI:SS') AS invoice_date
       FROM ${WAREHOUSE_TABLES.lines} ORDER BY line_no`,
    );
    expect(lines).toEqual(
      rows.map((r) => ({
        invoice_no: r.invoice_no,
        line_no: r.line_no,
        description: r.description,
        quantity: r.quantity,
        unit_price: Number(r.unit_price).toFixed(3),
        line_total: Number(r.line_total).toFixed(3),
        customer_id: null,
        invoice_date: r.invoice_date,
      })),
    );
    const { rows: sum } = await client.query(`SELECT sum(line_total)::text AS revenue, count(*)::int AS n FROM ${WAREHOUSE_TABLES.lines}`);
    const expected = formatMillisFixed(parseMillis(sumDecimals(rows.map((r) => String(r.line_total)))) ?? 0n);
    expect(expected).toBe('-10911.920');
    expect(sum).toEqual([{ revenue: expected, n: 4 }]);
  });

  it('loads nothing of a COPY that fails part-way', async () => {
    const broken = [...rows.map((r) => ({ ...r, invoice_no: 'C536379' })), { ...rows[0], quantity: 'six' }];
    await expect(warehouse.copyRows(WAREHOUSE_TABLES.staging, columns, broken)).rejects.toThrow();
    expect(await warehouse.query(`SELECT count(*)::int AS n FROM ${WAREHOUSE_TABLES.staging}`)).toEqual([{ n: 0 }]);
  });
});

describe('a warehouse given by WAREHOUSE_URL', () => {
  // Any Postgres reached over the wire protocol; here the embedded one's socket stands in for a real server.
  let server: Warehouse;
  let remote: Warehouse;

  beforeAll(async () => {
    server = await startEmbeddedWarehouse({});
    remote = await connectWarehouse(server.url);
  }, 120_000); // PGlite compiles its WASM at start: slow on a loaded machine

  afterAll(async () => {
    await remote?.close();
    await server?.close();
  });

  it('is migrated, loaded (multi-row INSERTs in one transaction) and merged through `pg`', async () => {
    expect(await remote.migrate()).toEqual([]);
    await remote.copyRows(WAREHOUSE_TABLES.staging, columns, rows);
    await remote.copyRows(WAREHOUSE_TABLES.staging, columns, rows);
    expect(await remote.mergeStaged()).toBe(8);
    expect(await remote.query(`SELECT count(*)::int AS n, sum(line_total)::text AS revenue FROM ${WAREHOUSE_TABLES.lines}`)).toEqual([{ n: 4, revenue: '-10911.920' }]);
  });

  it('rolls a failed load back whole', async () => {
    const broken = [...rows.map((r) => ({ ...r, invoice_no: 'C536379' })), { ...rows[0], quantity: 'six' }];
    await expect(remote.copyRows(WAREHOUSE_TABLES.staging, columns, broken)).rejects.toThrow();
    expect(await remote.query(`SELECT count(*)::int AS n FROM ${WAREHOUSE_TABLES.staging}`)).toEqual([{ n: 0 }]);
  });
});

describe('the embedded warehouse started in an empty folder', () => {
  it("keeps one Postgres instance resident, not initdb's as well", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'embedded-warehouse-'));
    const before = process.memoryUsage().external;
    const warehouse = await startEmbeddedWarehouse({ dataDir: dir });
    try {
      // Its own WASM memory (128 MB at least) and little else; initdb's instance and the copy of the data folder it
      // made (~430 MB more) were dropped during start-up and are collected before it returns.
      expect((process.memoryUsage().external - before) / 2 ** 20).toBeLessThan(300);
    } finally {
      await warehouse.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
