import { recordVersion } from '@invoice-pipeline/transactions';
import { mergeStagedStatements, WAREHOUSE_TABLES } from '@invoice-pipeline/warehouse';
import { Client } from 'pg';
import { startEmbeddedWarehouse } from './embedded';

/**
 * The embedded warehouse runs on a thread of its own: a long statement (a MERGE into a big table is one synchronous
 * call into WASM) must not hold the local stack's event loop, which also runs the event source, the Firehose and the
 * API router. Measured by a timer on this thread while the warehouse works: on the old in-process engine the timer
 * stood still for the whole statement.
 */
describe('the embedded warehouse, on its own thread', () => {
  // A port found free before PGlite's seconds-long start could be taken meanwhile (tests of two jest workers collided
  // on one: EADDRINUSE); without a port the server binds any free one and its URL names it.
  it('binds a free port of its own when given none, and its URL names that port', async () => {
    const started = await Promise.allSettled([startEmbeddedWarehouse({}), startEmbeddedWarehouse({})]);
    const warehouses = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    try {
      for (const result of started) if (result.status === 'rejected') throw result.reason;
      const ports = warehouses.map((warehouse) => Number(new URL(warehouse.url).port));
      expect(ports.every((port) => port > 0)).toBe(true);
      expect(new Set(ports).size).toBe(2);
      for (const warehouse of warehouses) {
        const client = new Client({ connectionString: warehouse.url });
        await client.connect();
        try {
          expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
        } finally {
          await client.end();
        }
      }
    } finally {
      await Promise.all(warehouses.map((warehouse) => warehouse.close()));
    }
  }, 120_000);

  it("keeps this thread's event loop free while a long statement runs", async () => {
    const warehouse = await startEmbeddedWarehouse({});
    try {
      let last = performance.now();
      let longestGap = 0;
      const ticker = setInterval(() => {
        const now = performance.now();
        longestGap = Math.max(longestGap, now - last);
        last = now;
      }, 5);
      const started = performance.now();
      const [row] = await warehouse.query<{ n: string }>('SELECT count(*)::text AS n FROM generate_series(1, 1000000) a, generate_series(1, 2) b');
      const statementMs = performance.now() - started;
      longestGap = Math.max(longestGap, performance.now() - last); // a timer that never fired stood still throughout
      clearInterval(ticker);
      expect(row?.n).toBe('2000000');
      expect(statementMs).toBeGreaterThan(300); // long enough to tell
      expect(longestGap).toBeLessThan(statementMs / 2);
    } finally {
      await warehouse.close();
    }
  }, 120_000); // PGlite compiles its WASM at start: slow on a loaded machine

  it('carries a Postgres error across with its fields, and a failed transaction leaves nothing', async () => {
    const warehouse = await startEmbeddedWarehouse({});
    try {
      await warehouse.query('CREATE TABLE t (k INTEGER PRIMARY KEY)');
      await expect(
        warehouse.transaction(async (tx) => {
          await tx.bulkInsert('t', ['k'], [{ k: 1 }, { k: 2 }]);
          await tx.query('INSERT INTO t VALUES (1)');
        }),
      ).rejects.toMatchObject({ code: '23505', message: expect.stringContaining('duplicate key') });
      expect(await warehouse.query('SELECT count(*)::int AS n FROM t')).toEqual([{ n: 0 }]);
      await warehouse.transaction((tx) => tx.bulkInsert('t', ['k'], [{ k: 3 }]));
      expect(await warehouse.query('SELECT k FROM t')).toEqual([{ k: 3 }]);
    } finally {
      await warehouse.close();
    }
  }, 120_000);

  it("probes the key index, not the whole table, for a merge's superseded lines once invoice_lines is big", async () => {
    const warehouse = await startEmbeddedWarehouse({});
    try {
      await warehouse.migrate();
      const { lines } = WAREHOUSE_TABLES;
      // 600,000 lines of 30,000 invoices, analysed as the loader analyses them; then a merge's 2,500 staged invoices.
      await warehouse.query(
        `INSERT INTO ${lines} (invoice_no, line_no, invoice_type, invoice_date, country, store_id, stock_code, quantity, unit_price, line_total, record_version)
         SELECT (500000 + i / 20)::text, i % 20 + 1, 'sale', timestamp '2011-01-01' + i * interval '1 second', 'United Kingdom', 'store-001', 'SC', 1, 1, 1, '${recordVersion('1')}'
         FROM generate_series(0, 599999) i`,
      );
      await warehouse.query(`ANALYZE ${lines}`);
      const statements = mergeStagedStatements('postgres');
      const deleteSuperseded = statements.find((statement) => statement.startsWith(`DELETE FROM ${lines} USING`)) ?? '';
      const versions = /USING (\w+)/.exec(deleteSuperseded)?.[1] ?? '';
      const plan = await warehouse.transaction(async (tx) => {
        await tx.query(`CREATE TEMP TABLE ${versions} AS SELECT (520000 + i)::text AS invoice_no, '${recordVersion('2')}'::text AS record_version FROM generate_series(0, 2499) i`);
        await tx.query(`ANALYZE ${versions}`);
        return (await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${deleteSuperseded}`)).map((row) => row['QUERY PLAN']).join('\n');
      });
      expect(plan).toMatch(/Index Scan using \w+ on invoice_lines/);
      expect(plan).not.toMatch(/Seq Scan on invoice_lines\b(?!_)/);
    } finally {
      await warehouse.close();
    }
  }, 180_000);
});
