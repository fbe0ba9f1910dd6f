import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { startEmbeddedWarehouse } from './embedded';
import { connectWarehouse, type Warehouse } from '@invoice-pipeline/warehouse/postgres';

/**
 * Where warehouse tests run: the embedded PGlite always, and a real PostgreSQL server when WAREHOUSE_TEST_URL names
 * one (.ci/run starts Debian's `postgresql` and sets it). A real server runs connections in parallel, which the
 * embedded one serialises, so races between COPY, MERGE and readers show only there. CI must have it.
 */
const WAREHOUSE_TEST_URL = process.env.WAREHOUSE_TEST_URL;
export const warehouseEngines: Array<'embedded' | 'postgres'> = WAREHOUSE_TEST_URL ? ['embedded', 'postgres'] : ['embedded'];
if (!WAREHOUSE_TEST_URL) {
  if (process.env.CI === 'true') throw new Error('CI must run the warehouse tests on a real PostgreSQL: set WAREHOUSE_TEST_URL (.ci/run does)');
  console.warn('WAREHOUSE_TEST_URL not set: warehouse tests run on the embedded PGlite only (apt-get install postgresql; see .ci/run)');
}

/** A fresh, migrated warehouse: an embedded one, or a new database on the WAREHOUSE_TEST_URL server (dropped on close). */
export async function startTestWarehouse(engine: 'embedded' | 'postgres'): Promise<Warehouse> {
  if (engine === 'embedded' || !WAREHOUSE_TEST_URL) return startEmbeddedWarehouse({});
  const name = `warehouse_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: WAREHOUSE_TEST_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(WAREHOUSE_TEST_URL);
  url.pathname = `/${name}`;
  const warehouse = await connectWarehouse(url.toString());
  const close = warehouse.close.bind(warehouse);
  warehouse.close = async () => {
    await close();
    const cleanup = new Client({ connectionString: WAREHOUSE_TEST_URL });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await cleanup.end();
  };
  return warehouse;
}
