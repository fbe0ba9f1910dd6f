import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Warehouse, type SqlSession } from '@invoice-pipeline/warehouse/postgres';
import type { EngineError, EngineRequest, EngineSettings } from './embedded-engine';

export interface EmbeddedWarehouseOptions {
  /** Folder that keeps the database between runs; in memory when absent. */
  dataDir?: string;
  /**
   * Port of the Postgres wire protocol server on 127.0.0.1. Absent or 0: a free port, chosen as the server binds (a
   * port found free beforehand could be taken by another process during the seconds PGlite takes to start).
   */
  port?: number;
}

// The engine's thread runs TypeScript through tsx's require hook, as the emulator processes do.
const ENGINE_SOURCE = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(join(__dirname, 'embedded-engine.ts'))}).runEngineWorker();`;

/** CSV for Postgres COPY: unquoted empty is NULL, everything else quoted, quotes doubled. */
function toCopyCsv(columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): string {
  const cell = (value: unknown) => (value === null || value === undefined ? '' : `"${String(value).replaceAll('"', '""')}"`);
  return rows.map((row) => columns.map((column) => cell(row[column])).join(',')).join('\n') + '\n';
}

const toError = (error: EngineError) => Object.assign(new Error(error.message), error);

/** Requests to the engine's thread, each answered by id; everything pending fails if the thread ends. */
function engineChannel(worker: Worker) {
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let ended: Error | undefined;
  const endAll = (error: Error) => {
    ended ??= error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  worker.on('message', (message: { id?: number; result?: unknown; error?: EngineError }) => {
    const call = message.id === undefined ? undefined : pending.get(message.id);
    if (!call || message.id === undefined) return;
    pending.delete(message.id);
    if (message.error) call.reject(toError(message.error));
    else call.resolve(message.result);
  });
  worker.on('error', (error) => endAll(Object.assign(new Error(`the embedded warehouse failed: ${error.message}`), { cause: error })));
  worker.on('exit', (code) => endAll(new Error(`the embedded warehouse's thread ended (exit code ${code})`)));
  return <T>(request: EngineRequest): Promise<T> => {
    if (ended) return Promise.reject(ended);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ id, request });
    });
  };
}

function engineSession(call: ReturnType<typeof engineChannel>): SqlSession {
  return {
    query: <T>(sql: string, params?: unknown[]) => call<T[]>({ op: 'query', sql, params }),
    canCopyCsv: true,
    async transaction(work) {
      const tx = await call<number>({ op: 'begin' });
      let result;
      try {
        result = await work({
          query: <T>(sql: string, params?: unknown[]) => call<T[]>({ op: 'query', tx, sql, params }),
          // Rows cross as the CSV their COPY reads: one string, not thousands of objects to clone, and the engine's thread
          // (the warehouse's long pole) does only the COPY.
          bulkInsert: (table, columns, rows) => call<void>({ op: 'copyCsv', tx, table, columns, csv: Buffer.from(toCopyCsv(columns, rows)) }),
          copyCsv: (table, columns, csv) => call<void>({ op: 'copyCsv', tx, table, columns, csv }),
        });
      } catch (error) {
        await call({ op: 'end', tx, commit: false }).catch(() => undefined);
        throw error;
      }
      await call({ op: 'end', tx, commit: true });
      return result;
    },
  };
}

/**
 * Postgres 18 compiled to WASM (PGlite), served over the Postgres wire protocol so `psql` and `pg` connect as they
 * would to Redshift. It runs on a thread of its own: a MERGE of a few thousand staged lines into a table of hundreds
 * of thousands is one synchronous call into WASM, and on the local stack's main thread such calls held its event
 * loop (the event source, the Firehose, the API router) for up to 2 s at a time through a whole-dataset replay.
 * Loads and queries reach it as messages (the Firehose loader's COPY too); clients share one serialised backend.
 */
export async function startEmbeddedWarehouse(options: EmbeddedWarehouseOptions): Promise<Warehouse> {
  const settings: EngineSettings = { port: options.port ?? 0, ...(options.dataDir ? { dataDir: options.dataDir } : {}) };
  const worker = new Worker(ENGINE_SOURCE, { eval: true, workerData: settings });
  const call = engineChannel(worker);
  const port = await new Promise<number>((ready, failed) => {
    const started = (message: { ready?: boolean; port?: number; failed?: EngineError }) => {
      if (message.ready) ready(message.port ?? settings.port);
      else if (message.failed) failed(toError(message.failed));
      else return;
      worker.off('message', started);
    };
    worker.on('message', started);
    worker.once('error', (error) => failed(Object.assign(new Error(`the embedded warehouse failed to start: ${error.message}`), { cause: error })));
    worker.once('exit', (code) => failed(new Error(`the embedded warehouse's thread ended while starting (exit code ${code})`)));
  });
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/postgres?sslmode=disable`;
  const warehouse = new Warehouse(url, engineSession(call), async () => {
    await call({ op: 'close' }).catch(() => undefined);
    await worker.terminate();
  });
  await warehouse.migrate();
  // initdb's instance is unreachable once the task that made the last migration's query has ended.
  await call({ op: 'collectGarbage' });
  return warehouse;
}
