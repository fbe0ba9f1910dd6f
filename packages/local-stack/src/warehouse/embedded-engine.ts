// The embedded warehouse's engine: PGlite and its wire-protocol server, on the worker thread that ./embedded.ts starts.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { parentPort, workerData } from 'node:worker_threads';

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

/**
 * Postgres's page cache inside the WASM memory (initdb's default is 128MB, all of it resident once touched). The data
 * files are real files under dataDir, so a page not cached here is read from the operating system's cache; 32MB keeps
 * the staging table and the indexes MERGE walks.
 */
const SHARED_BUFFERS = '32MB';

/**
 * The planner's price of a random page read against a sequential one (Postgres's default: 4, for spinning disks). The
 * embedded warehouse's pages are in its own cache or the operating system's, so a random read costs about what a
 * sequential one does (1.1: the usual setting for SSDs). At 4 the merge's DELETE of superseded lines (a few thousand
 * invoices against invoice_lines) scanned the whole table once it held ~600,000 lines (~0.2-0.5 s per merge, and the
 * scan evicted the pages the MERGE then needed) instead of probing the key index (~5 ms).
 */
const RANDOM_PAGE_COST = '1.1';

/**
 * A full garbage collection, now. PGlite's first start in an empty folder runs initdb in a second WASM instance and
 * copies the new data folder across, then drops both: ~350 MB of WASM memory and buffers that stay resident until V8's
 * next full collection, which a process with a small JS heap may not run for minutes (it stayed through a whole
 * benchmark replay). `gc` is exposed to a fresh context only, and the flag taken back at once.
 */
function collectGarbage(): void {
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

/** What the main thread asks of the engine; each answer is the result or the error, by request id. */
export type EngineRequest =
  | { op: 'query'; tx?: number; sql: string; params?: unknown[] }
  | { op: 'begin' }
  | { op: 'end'; tx: number; commit: boolean }
  | { op: 'copyCsv'; tx: number; table: string; columns: readonly string[]; csv: Uint8Array }
  | { op: 'collectGarbage' }
  | { op: 'close' };

export interface EngineSettings {
  dataDir?: string;
  /** 0: any free port, chosen as the server binds. */
  port: number;
}

/** A Postgres error's fields (code, detail, constraint, ...) survive the crossing: callers read them. */
export type EngineError = { message: string; name?: string; stack?: string } & Record<string, unknown>;

function serialiseError(error: unknown): EngineError {
  if (!(error instanceof Error)) return { message: String(error) };
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) fields[key] = value;
  return { ...fields, message: error.message, name: error.name, stack: error.stack };
}

// In-process COPY from a Blob is PGlite's fast path (COPY FROM STDIN over the socket breaks the connection).
const copyFromBlob = (table: string, columns: readonly string[]) => `COPY ${table} (${columns.join(', ')}) FROM '/dev/blob' WITH (FORMAT csv)`;

/** Thrown inside PGlite's transaction to roll it back when the main thread ends it without a commit. */
const ROLLBACK = Symbol('rollback');

/** Starts PGlite and its server, then answers the main thread's requests until `close`; resolves to the bound port. */
async function serveEngine(settings: EngineSettings, port: NonNullable<typeof parentPort>): Promise<number> {
  const startParams = [...PGlite.defaultStartParams, '-c', `shared_buffers=${SHARED_BUFFERS}`, '-c', `random_page_cost=${RANDOM_PAGE_COST}`];
  const db = settings.dataDir ? new PGlite(settings.dataDir, { startParams }) : new PGlite({ startParams });
  await db.waitReady;
  const memfs = settings.dataDir ? undefined : memfsOf(db);
  if (memfs) growFilesGeometrically(memfs);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: settings.port, maxConnections: 16 });
  let boundPort = settings.port;
  server.addEventListener('listening', (event) => (boundPort = (event as CustomEvent<{ port: number }>).detail.port));
  await server.start();

  type Tx = Parameters<Parameters<PGlite['transaction']>[0]>[0];
  const open = new Map<number, { tx: Tx; end: (commit: boolean) => void; ended: Promise<unknown> }>();
  let nextTx = 1;
  const txOf = (id: number) => {
    const entry = open.get(id);
    if (!entry) throw new Error(`no open transaction ${id}`);
    return entry;
  };

  async function handle(request: EngineRequest): Promise<unknown> {
    switch (request.op) {
      case 'query':
        return (await (request.tx === undefined ? db : txOf(request.tx).tx).query(request.sql, request.params)).rows;
      case 'begin': {
        const id = nextTx++;
        return new Promise<number>((began, failed) => {
          let end: (commit: boolean) => void = () => undefined;
          const commitAsked = new Promise<boolean>((resolve) => (end = resolve));
          const ended = db
            .transaction(async (tx) => {
              open.set(id, { tx, end, ended });
              began(id);
              if (!(await commitAsked)) throw ROLLBACK;
            })
            .catch((error: unknown) => {
              if (error !== ROLLBACK) throw error;
            })
            .finally(() => open.delete(id));
          ended.catch(failed);
        });
      }
      case 'end': {
        const entry = txOf(request.tx);
        entry.end(request.commit);
        await entry.ended;
        return undefined;
      }
      case 'copyCsv':
        await txOf(request.tx).tx.query(copyFromBlob(request.table, request.columns), [], { blob: new Blob([request.csv as Uint8Array<ArrayBuffer>]) });
        return undefined;
      case 'collectGarbage':
        collectGarbage();
        return undefined;
      case 'close':
        await server.stop();
        await db.close();
        return undefined;
    }
  }

  port.on('message', ({ id, request }: { id: number; request: EngineRequest }) => {
    handle(request).then(
      (result) => port.postMessage({ id, result }),
      (error: unknown) => port.postMessage({ id, error: serialiseError(error) }),
    );
  });
  return boundPort;
}

/** The worker's entry: `workerData` holds the EngineSettings. */
export function runEngineWorker(): void {
  if (!parentPort) throw new Error('the warehouse engine runs on a worker thread');
  const port = parentPort;
  serveEngine(workerData as EngineSettings, port).then(
    (boundPort) => port.postMessage({ ready: true, port: boundPort }),
    (error: unknown) => port.postMessage({ failed: serialiseError(error) }),
  );
}
