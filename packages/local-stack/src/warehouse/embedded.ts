import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { Warehouse, type SqlSession } from '@invoice-pipeline/warehouse/postgres';

/** CSV for Postgres COPY: unquoted empty is NULL, everything else quoted, quotes doubled. */
export function toCopyCsv(columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): string {
  const cell = (value: unknown) => (value === null || value === undefined ? '' : `"${String(value).replaceAll('"', '""')}"`);
  return rows.map((row) => columns.map((column) => cell(row[column])).join(',')).join('\n') + '\n';
}

function pgliteSession(db: PGlite): SqlSession {
  return {
    query: async <T>(sql: string, params?: unknown[]) => (await db.query<T>(sql, params)).rows,
    canCopyCsv: true,
    transaction: (work) =>
      db.transaction((tx) =>
        work({
          query: async <T>(sql: string, params?: unknown[]) => (await tx.query<T>(sql, params)).rows,
          async bulkInsert(table, columns, rows) {
            // In-process COPY from a Blob is PGlite's fast path (COPY FROM STDIN over the socket breaks the connection).
            const copy = `COPY ${table} (${columns.join(', ')}) FROM '/dev/blob' WITH (FORMAT csv)`;
            await tx.query(copy, [], { blob: new Blob([toCopyCsv(columns, rows)]) });
          },
          async copyCsv(table, columns, csv) {
            await tx.query(`COPY ${table} (${columns.join(', ')}) FROM '/dev/blob' WITH (FORMAT csv)`, [], { blob: new Blob([csv as Uint8Array<ArrayBuffer>]) });
          },
        }),
      ),
  };
}

export interface EmbeddedWarehouseOptions {
  /** Folder that keeps the database between runs; in memory when absent. */
  dataDir?: string;
  /** Port of the Postgres wire protocol server on 127.0.0.1. */
  port: number;
}

/**
 * Postgres 18 compiled to WASM (PGlite), served over the Postgres wire protocol so `psql` and `pg` connect as they
 * would to Redshift. Loads run in-process (the Firehose emulator calls copyRows), clients share one serialised backend.
 */
export async function startEmbeddedWarehouse(options: EmbeddedWarehouseOptions): Promise<Warehouse> {
  const db = options.dataDir ? new PGlite(options.dataDir) : new PGlite();
  await db.waitReady;
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: options.port, maxConnections: 16 });
  await server.start();
  const url = `postgres://postgres:postgres@127.0.0.1:${options.port}/postgres?sslmode=disable`;
  const session = pgliteSession(db);
  const warehouse = new Warehouse(url, session, async () => {
    await server.stop();
    await db.close();
  });
  await warehouse.migrate();
  return warehouse;
}
