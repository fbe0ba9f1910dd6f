// `@invoice-pipeline/local-firehose/testing`: helpers for tests of the local Firehose (test code only; it calls `expect`).
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { PGlite } from '@electric-sql/pglite';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '@invoice-pipeline/local-emulators';
import { insertRows } from '@invoice-pipeline/warehouse/postgres';
import type { DeliveryStreamStats } from './delivery-stream';
import type { WarehouseLoader } from './warehouse-loader';

export { startTestKinesis, startTestS3, type TestKinesis, type TestS3 } from '@invoice-pipeline/local-emulators/testing';

export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function firehoseClientFor(endpoint: string): FirehoseClient {
  return new FirehoseClient({ endpoint, region: LOCAL_REGION, credentials: { ...LOCAL_CREDENTIALS }, maxAttempts: 1 });
}

export interface TestWarehouse {
  db: PGlite;
  /** A WarehouseLoader over PGlite: multi-row INSERTs in one transaction, like a COPY. */
  loader: WarehouseLoader;
  /** While true, copyRows fails as an unreachable warehouse would. */
  down: boolean;
  /** copyRows calls, failed ones included. */
  loadAttempts: number;
  stop(): Promise<void>;
}

export async function startTestWarehouse(ddl: string): Promise<TestWarehouse> {
  const db = new PGlite();
  await db.exec(ddl);
  const warehouse: TestWarehouse = {
    db,
    down: false,
    loadAttempts: 0,
    loader: {
      async copyRows(table, columns, rows) {
        warehouse.loadAttempts += 1;
        if (warehouse.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5439');
        if (rows.length === 0) return;
        await db.transaction((tx) => insertRows((sql, params) => tx.query(sql, params), table, columns, rows));
      },
    },
    stop: () => db.close(),
  };
  return warehouse;
}

/** Every accepted record is in exactly one place: delivered, failed to the error prefix, or visibly in flight. */
export function expectAccounted(stats: DeliveryStreamStats, settled = true): void {
  expect(stats.delivered + stats.failed + stats.inFlight).toBe(stats.recordsIn);
  expect(stats.inFlight).toBe(stats.buffered + stats.deliveringToS3 + stats.loadingToWarehouse + stats.writingErrorOutput);
  if (settled) expect(stats.inFlight).toBe(0);
}
