import { Client } from 'pg';
import { normaliseInvoice, recordVersion } from '@invoice-pipeline/transactions';
import { EXAMPLE_INVOICE } from '@invoice-pipeline/transactions/files';
import { ANALYST_READABLE, ANALYSTS_ROLE, BATCH_TABLES, toWarehouseRow, WAREHOUSE_COLUMNS, WAREHOUSE_MIGRATIONS, WAREHOUSE_TABLES } from '@invoice-pipeline/warehouse';
import { pgAnalyticsDb, prepareAnalytics, rebuildAnalytics } from '@invoice-pipeline/warehouse/analytics';
import type { Warehouse } from '@invoice-pipeline/warehouse/postgres';
import { startTestWarehouse, warehouseEngines } from './test-warehouse';

/**
 * The analysts' role on the local warehouse, as the migrations leave it (the same migrations the deployed loader
 * applies to Redshift): it reads the merged lines and the analytics layer, and can neither write anything nor read the
 * pipeline's own tables (staging, loaded files, batch tables, migrations).
 */
describe.each(warehouseEngines)("the analysts' read-only role (%s warehouse)", (engine) => {
  let warehouse: Warehouse;
  let analyst: Client;
  /**
   * One statement with only the analysts' role's privileges, as an analyst's user has them: SET LOCAL ROLE in a
   * transaction that is rolled back (the embedded warehouse shares one backend between connections, so a plain SET ROLE
   * would outlive the statement).
   */
  const asAnalyst = async <T = Record<string, unknown>>(sql: string) => {
    await analyst.query('BEGIN');
    try {
      await analyst.query(`SET LOCAL ROLE ${ANALYSTS_ROLE}`);
      return (await analyst.query(sql)).rows as T[];
    } finally {
      await analyst.query('ROLLBACK');
    }
  };
  const refused = async (sql: string) => {
    await expect(asAnalyst(sql)).rejects.toThrow(/permission denied|must be owner/);
  };

  beforeAll(async () => {
    warehouse = await startTestWarehouse(engine);
    const rows = normaliseInvoice(EXAMPLE_INVOICE).map((line) => ({ ...toWarehouseRow(line, recordVersion('1')) }));
    await warehouse.copyRows(WAREHOUSE_TABLES.lines, WAREHOUSE_COLUMNS.map((c) => c.name), rows);
    // As the dashboard does it, over the wire: the layer again (idempotent, grants kept) and a rebuild.
    const admin = new Client({ connectionString: warehouse.url });
    await admin.connect();
    await prepareAnalytics(pgAnalyticsDb(admin));
    await rebuildAnalytics(pgAnalyticsDb(admin));
    await admin.end();
    analyst = new Client({ connectionString: warehouse.url });
    await analyst.connect();
  }, 120_000);
  afterAll(async () => {
    await analyst?.end();
    await warehouse?.close();
  });

  it('is made by the migrations, again without error (idempotent), as a role nobody signs in as', async () => {
    expect(await warehouse.migrate()).toEqual([]);
    const migration = WAREHOUSE_MIGRATIONS.find((m) => m.version === 5);
    await warehouse.runStatements(migration?.statements('postgres') ?? ['missing migration 5']);
    const [role] = await warehouse.query<{ rolcanlogin: boolean; rolsuper: boolean }>(`SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = '${ANALYSTS_ROLE}'`);
    expect(role).toEqual({ rolcanlogin: false, rolsuper: false });
  });

  it('reads the lines and every analytics table and view', async () => {
    expect(ANALYST_READABLE).toEqual(['invoice_lines', 'dim_date', 'dim_product', 'dim_customer', 'customer_rfm', 'pipeline_rejects', 'fact_invoice_lines']);
    for (const object of ANALYST_READABLE) await expect(asAnalyst(`SELECT count(*) FROM ${object}`)).resolves.toHaveLength(1);
    expect(await asAnalyst<{ revenue: string }>('SELECT sum(line_total)::text AS revenue FROM fact_invoice_lines')).toEqual([{ revenue: '57.640' }]);
    expect(await asAnalyst<{ n: number }>('SELECT count(*)::int AS n FROM dim_product')).toEqual([{ n: 3 }]);
  });

  it('writes nothing: no insert, update, delete or truncate anywhere, no new tables', async () => {
    for (const object of ANALYST_READABLE.filter((name) => name !== 'fact_invoice_lines')) {
      await refused(`DELETE FROM ${object}`);
      await refused(`TRUNCATE ${object}`);
    }
    await refused(`INSERT INTO ${WAREHOUSE_TABLES.lines} (invoice_no, line_no) VALUES ('X1', 1)`);
    await refused(`UPDATE ${WAREHOUSE_TABLES.lines} SET quantity = 0`);
    await refused('UPDATE dim_customer SET net_revenue = 0');
    await refused('CREATE TABLE analyst_scratch (a INTEGER)');
    await refused(`DROP TABLE ${WAREHOUSE_TABLES.lines}`);
    expect(await warehouse.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${WAREHOUSE_TABLES.lines}`)).toEqual([{ n: 3 }]);
  });

  it("cannot read the pipeline's own tables: staging, loaded files, batch tables, migrations", async () => {
    for (const table of [WAREHOUSE_TABLES.staging, WAREHOUSE_TABLES.loadedFiles, WAREHOUSE_TABLES.migrations, ...Object.values(BATCH_TABLES)]) {
      await refused(`SELECT count(*) FROM ${table}`);
    }
  });
});
