import { freePort } from '../ports';
import { startEmbeddedWarehouse } from './embedded';

/**
 * The embedded warehouse runs on a thread of its own: a long statement (a MERGE into a big table is one synchronous
 * call into WASM) must not hold the local stack's event loop, which also runs the event source, the Firehose and the
 * API router. Measured by a timer on this thread while the warehouse works: on the old in-process engine the timer
 * stood still for the whole statement.
 */
describe('the embedded warehouse, on its own thread', () => {
  it("keeps this thread's event loop free while a long statement runs", async () => {
    const warehouse = await startEmbeddedWarehouse({ port: await freePort() });
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
    const warehouse = await startEmbeddedWarehouse({ port: await freePort() });
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
});
