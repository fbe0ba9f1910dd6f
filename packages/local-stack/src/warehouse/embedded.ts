import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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

/** The part of Emscripten's in-memory file system (MEMFS) that sizes a file's bytes. */
export interface MemfsFileStorage {
  expandFileStorage(node: MemfsNode, capacity: number): void;
  resizeFileStorage(node: MemfsNode, size: number): void;
}
interface MemfsNode {
  contents: Uint8Array | null;
  usedBytes: number;
}

/**
 * An in-memory PGlite keeps its files in MEMFS, whose resize (what fallocate and ftruncate do) reallocates a growing file
 * to exactly its new size and copies it. Postgres extends a relation by fallocate during bulk writes, so filling a table
 * cost time quadratic in its size: a COPY of the whole dataset took 30 s, 10 s with this (and every table the batch load
 * writes paid it too). A file now grows as MEMFS grows it on write (geometrically: expandFileStorage), the new bytes
 * zero as fallocate leaves them; shrinking is unchanged. A warehouse on disk (dataDir) does not use MEMFS.
 */
export function growFilesGeometrically(memfs: MemfsFileStorage): void {
  const resize = memfs.resizeFileStorage.bind(memfs);
  memfs.resizeFileStorage = (node, size) => {
    if (!node.contents || size <= node.usedBytes) return resize(node, size);
    memfs.expandFileStorage(node, size);
    node.contents.fill(0, node.usedBytes, size);
    node.usedBytes = size;
  };
}

/** MEMFS of a PGlite in memory (its root mount), when this build exposes it. */
function memfsOf(db: PGlite): MemfsFileStorage | undefined {
  const type = (db as unknown as { mod?: { FS?: { root?: { mount?: { type?: Partial<MemfsFileStorage> } } } } }).mod?.FS?.root?.mount?.type;
  return typeof type?.resizeFileStorage === 'function' && typeof type.expandFileStorage === 'function' ? (type as MemfsFileStorage) : undefined;
}

export interface EmbeddedWarehouseOptions {
  /** Folder that keeps the database between runs; in memory when absent. */
  dataDir?: string;
  /** Port of the Postgres wire protocol server on 127.0.0.1. */
  port: number;
}

/**
 * Postgres's page cache inside the WASM memory (initdb's default is 128MB, all of it resident once touched). The data
 * files are real files under dataDir, so a page not cached here is read from the operating system's cache; 32MB keeps
 * the staging table and the indexes MERGE walks.
 */
const SHARED_BUFFERS = '32MB';

/**
 * A full garbage collection, now. PGlite's first start in an empty folder runs initdb in a second WASM instance and
 * copies the new data folder across, then drops both: ~350 MB of WASM memory and buffers that stay resident until V8's
 * next full collection, which a process with a small JS heap may not run for minutes (it stayed through a whole
 * benchmark replay). `gc` is exposed to a fresh context only, and the flag taken back at once.
 */
export function collectGarbage(): void {
  let gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    setFlagsFromString('--expose-gc');
    try {
      gc = runInNewContext('gc') as () => void;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  // Twice: the first pass finalises the dropped WASM memories, the second frees what they held.
  gc();
  gc();
}

/**
 * Postgres 18 compiled to WASM (PGlite), served over the Postgres wire protocol so `psql` and `pg` connect as they
 * would to Redshift. Loads run in-process (the Firehose emulator calls copyRows), clients share one serialised backend.
 */
export async function startEmbeddedWarehouse(options: EmbeddedWarehouseOptions): Promise<Warehouse> {
  const settings = { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${SHARED_BUFFERS}`] };
  const db = options.dataDir ? new PGlite(options.dataDir, settings) : new PGlite(settings);
  await db.waitReady;
  const memfs = options.dataDir ? undefined : memfsOf(db);
  if (memfs) growFilesGeometrically(memfs);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: options.port, maxConnections: 16 });
  await server.start();
  const url = `postgres://postgres:postgres@127.0.0.1:${options.port}/postgres?sslmode=disable`;
  const session = pgliteSession(db);
  const warehouse = new Warehouse(url, session, async () => {
    await server.stop();
    await db.close();
  });
  await warehouse.migrate();
  // initdb's instance is unreachable once the task that made the last migration's query has ended.
  await new Promise((next) => setImmediate(next));
  collectGarbage();
  return warehouse;
}
