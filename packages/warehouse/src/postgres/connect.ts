import { Pool } from 'pg';
import { insertRows } from './insert-rows';
import { Warehouse, type SqlSession } from './warehouse';

function poolSession(pool: Pool): SqlSession {
  return {
    query: async <T>(sql: string, params?: unknown[]) => (await pool.query(sql, params)).rows as T[],
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work({
          query: async <T>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as T[],
          async bulkInsert(table, columns, rows) {
            // Multi-row INSERTs: plain `pg` has no COPY FROM STDIN without an extra package.
            await insertRows((sql, params) => client.query(sql, params), table, columns, rows);
          },
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
  };
}

/** A real Postgres given by WAREHOUSE_URL, in place of the embedded one. */
export async function connectWarehouse(url: string): Promise<Warehouse> {
  const pool = new Pool({ connectionString: url, max: 4 });
  await pool.query('SELECT 1');
  const warehouse = new Warehouse(url, poolSession(pool), () => pool.end());
  await warehouse.migrate();
  return warehouse;
}
