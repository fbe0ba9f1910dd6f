import { applyMigrations, WAREHOUSE_TABLES, mergeStagedStatements, type WarehouseDialect } from '../index';

export interface SqlQuery {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

/** A transaction: queries plus the engine's fastest bulk load (COPY where possible). */
export interface SqlTransaction extends SqlQuery {
  bulkInsert(table: string, columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): Promise<void>;
  /**
   * COPY … FROM of CSV bytes as Postgres reads them (`FORMAT csv`: no header, an unquoted empty field is NULL, a
   * quoted one the empty string), where the session can stream bytes to COPY (the embedded PGlite; `pg` cannot).
   */
  copyCsv?(table: string, columns: readonly string[], csv: Uint8Array): Promise<void>;
}

/** A SQL session: the embedded PGlite in-process, or a `pg` pool for a real Postgres. */
export interface SqlSession extends SqlQuery {
  /** Runs `work` in one transaction (BEGIN/COMMIT, ROLLBACK on error). */
  transaction<T>(work: (tx: SqlTransaction) => Promise<T>): Promise<T>;
  /** Whether its transactions have copyCsv. */
  canCopyCsv?: boolean;
}

/** The warehouse the local stack runs: migrations, COPY-equivalent loads, the staged-row merge. */
export class Warehouse {
  readonly dialect: WarehouseDialect = 'postgres';

  constructor(
    /** Connection URL for clients (`psql`, `pg`, BI tools). */
    readonly url: string,
    private readonly session: SqlSession,
    private readonly onClose: () => Promise<void>,
  ) {}

  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]> {
    return this.session.query<T>(sql, params);
  }

  /** Applies the migrations not yet applied, each in its own transaction (the loader's code, on this session). Idempotent. */
  async migrate(): Promise<number[]> {
    return applyMigrations({
      dialect: this.dialect,
      query: (sql) => this.query(sql),
      transaction: async (statements, copy) => {
        if (copy?.length) throw new Error('migrations copy no files');
        await this.runStatements(statements);
      },
    });
  }

  /** Runs `work` in one transaction (queries and bulk inserts), e.g. a load of staged files with its merge. */
  transaction<T>(work: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    return this.session.transaction(work);
  }

  /** COPY-equivalent: all rows or none, in one transaction. */
  async copyRows(table: string, columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): Promise<void> {
    if (rows.length === 0) return;
    await this.session.transaction((tx) => tx.bulkInsert(table, columns, rows));
  }

  /**
   * COPY of CSV bytes (Postgres `FORMAT csv`) in one transaction, when the session can: rows already in CSV never
   * become JS objects (the batch path's dumps: DuckDB writes the CSV). Undefined on a session without COPY FROM STDIN.
   */
  get copyCsv(): ((table: string, columns: readonly string[], csv: Uint8Array) => Promise<void>) | undefined {
    if (!this.session.canCopyCsv) return undefined;
    return (table, columns, csv) =>
      this.session.transaction(async (tx) => {
        if (!tx.copyCsv) throw new Error('this warehouse session cannot COPY CSV');
        await tx.copyCsv(table, columns, csv);
      });
  }

  /** Moves staged rows into invoice_lines (one row per key). Returns how many staged rows were consumed. */
  async mergeStaged(): Promise<number> {
    return this.session.transaction(async (tx) => {
      const [{ staged } = { staged: 0 }] = await tx.query<{ staged: number }>(`SELECT count(*)::int AS staged FROM ${WAREHOUSE_TABLES.staging}`);
      if (Number(staged) === 0) return 0;
      for (const statement of mergeStagedStatements(this.dialect)) await tx.query(statement);
      return Number(staged);
    });
  }

  /** Runs statements in order in one transaction (e.g. a dump file's merge). */
  async runStatements(statements: readonly string[]): Promise<void> {
    await this.session.transaction(async (tx) => {
      for (const statement of statements) await tx.query(statement);
    });
  }

  close(): Promise<void> {
    return this.onClose();
  }
}
