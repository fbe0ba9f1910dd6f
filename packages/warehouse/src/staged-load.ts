import { S3_PREFIXES } from '@invoice-pipeline/transactions';
import { sqlLiteral } from './batch';
import { WAREHOUSE_COLUMNS, WAREHOUSE_TABLES, type WarehouseDialect } from './contract';
import { mergeStagedStatements } from './merge';
import { MIGRATIONS_TABLE_DDL, WAREHOUSE_MIGRATIONS } from './migrations';

/**
 * The streaming path's load, the same code in AWS and locally: Firehose writes gzip JSON rows to S3 under
 * STAGED_PREFIX; the loader COPYs the files it has not loaded yet into the staging table, records them and runs the one
 * MERGE, in one transaction. Redshift stays private: in AWS the session is the Redshift Data API (a COPY from a
 * manifest), locally the embedded or a real Postgres (rows read from s3rver). A file is loaded once: the record of
 * loaded files commits with the rows, so a failed run loads nothing and the next run takes the same files again.
 */
export const STAGED_PREFIX = S3_PREFIXES.warehouseStaged;

/** Where the loader moves a staged file once its load committed: the same key under LOADED_PREFIX. */
export const LOADED_PREFIX = S3_PREFIXES.warehouseLoaded;
export const loadedKey = (stagedKey: string) => `${LOADED_PREFIX}${stagedKey.startsWith(STAGED_PREFIX) ? stagedKey.slice(STAGED_PREFIX.length) : stagedKey}`;

/** COPY of staged files, as both engines are told it (Redshift: FORMAT AS JSON 'auto' GZIP TIMEFORMAT 'auto'). */
export const STAGED_COPY_COLUMNS: readonly string[] = WAREHOUSE_COLUMNS.map((c) => c.name);

export interface StagedFile {
  /** S3 key in the staging bucket. */
  key: string;
  bytes: number;
}

/** What the loader needs of a warehouse: the Data API in AWS, a Postgres session locally. */
export interface LoaderSession {
  readonly dialect: WarehouseDialect;
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** In one transaction, all or nothing: COPY the files' rows into the staging table (if any), then the statements. */
  transaction(statements: readonly string[], copy?: readonly StagedFile[]): Promise<void>;
}

const now = (dialect: WarehouseDialect) => (dialect === 'redshift' ? 'GETDATE()' : 'now()');

/** Applies the migrations not yet applied, each in one transaction with its record. Idempotent; returns the versions applied. */
export async function applyMigrations(session: LoaderSession): Promise<number[]> {
  await session.transaction([MIGRATIONS_TABLE_DDL]);
  const applied = new Set((await session.query<{ version: number | string }>(`SELECT version FROM ${WAREHOUSE_TABLES.migrations}`)).map((r) => Number(r.version)));
  const done: number[] = [];
  for (const migration of WAREHOUSE_MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    await session.transaction([
      ...migration.statements(session.dialect),
      `INSERT INTO ${WAREHOUSE_TABLES.migrations} (version, name, applied_at) VALUES (${migration.version}, ${sqlLiteral(migration.name)}, ${now(session.dialect)});`,
    ]);
    done.push(migration.version);
  }
  return done;
}

/** Keys of loaded files from `fromKey` on (staged keys sort by time, so this is what a listing can still show). */
export const loadedFilesQuery = (fromKey: string) =>
  `SELECT file_key FROM ${WAREHOUSE_TABLES.loadedFiles} WHERE file_key >= ${sqlLiteral(fromKey)};`;

/** Records the files of one load; runs in the transaction of their COPY. */
export function recordLoadedFilesStatement(dialect: WarehouseDialect, files: readonly StagedFile[]): string {
  const rows = files.map((file) => `(${sqlLiteral(file.key)}, ${Math.trunc(file.bytes)}, ${now(dialect)})`);
  return `INSERT INTO ${WAREHOUSE_TABLES.loadedFiles} (file_key, bytes, loaded_at) VALUES\n${rows.join(',\n')};`;
}

/**
 * Redshift's COPY of one load: the files named by a manifest (exactly those, never a prefix match), gzip JSON rows
 * whose keys are the column names, ISO timestamps, with the namespace's COPY role.
 */
export function redshiftCopyStatement(manifestUrl: string, iamRoleArn: string): string {
  return [
    `COPY ${WAREHOUSE_TABLES.staging} (${STAGED_COPY_COLUMNS.join(', ')})`,
    `FROM ${sqlLiteral(manifestUrl)}`,
    `IAM_ROLE ${sqlLiteral(iamRoleArn)}`,
    `MANIFEST FORMAT AS JSON 'auto' GZIP TIMEFORMAT 'auto';`,
  ].join('\n');
}

/** A Redshift COPY manifest naming each file (mandatory: a missing file fails the load rather than skipping it). */
export function copyManifest(bucket: string, files: readonly StagedFile[]): string {
  return JSON.stringify({ entries: files.map((file) => ({ url: `s3://${bucket}/${file.key}`, mandatory: true, meta: { content_length: file.bytes } })) });
}

export interface LoadReport {
  /** Staged files listed. */
  listed: number;
  /** Files COPYed and merged by this run. */
  loaded: number;
  bytes: number;
  /** New files left for the next run (over maxFiles). */
  remaining: number;
  /** Files moved to loaded/ by this run: the ones it loaded, and loaded ones an earlier run did not get to move. */
  moved: number;
}

/** Files per run: their record is one INSERT, well within the Data API's 100 KB per statement. */
export const MAX_FILES_PER_LOAD = 500;

/**
 * One loader run: lists the staged files, skips those recorded as loaded, COPYs up to maxFiles new ones into staging,
 * records them and MERGEs, all in one transaction. Then (with moveLoaded) moves every listed file that is recorded as
 * loaded out of warehouse/ into loaded/, so the staged prefix holds only what still waits and may never expire, while
 * loaded/ expires. The record in staged_files_loaded decides what is loaded; the move only tidies: a run that stops
 * between the commit and the move leaves files the next run finds recorded, skips and moves. Throws when anything fails
 * (the caller's alarm hears it); nothing is recorded then, so the next run takes the same files again.
 */
export async function loadStagedFiles(options: {
  listStaged: () => Promise<StagedFile[]>;
  session: LoaderSession;
  maxFiles?: number;
  moveLoaded?: (files: readonly StagedFile[]) => Promise<void>;
}): Promise<LoadReport> {
  const listed = [...(await options.listStaged())].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const first = listed[0];
  if (!first) return { listed: 0, loaded: 0, bytes: 0, remaining: 0, moved: 0 };
  const loaded = new Set((await options.session.query<{ file_key: string }>(loadedFilesQuery(first.key))).map((row) => row.file_key));
  const fresh = listed.filter((file) => !loaded.has(file.key));
  const batch = fresh.slice(0, options.maxFiles ?? MAX_FILES_PER_LOAD);
  if (batch.length > 0) {
    await options.session.transaction([recordLoadedFilesStatement(options.session.dialect, batch), ...mergeStagedStatements(options.session.dialect)], batch);
  }
  const toMove = options.moveLoaded ? [...listed.filter((file) => loaded.has(file.key)), ...batch] : [];
  if (toMove.length > 0) await options.moveLoaded?.(toMove);
  return { listed: listed.length, loaded: batch.length, bytes: batch.reduce((sum, file) => sum + file.bytes, 0), remaining: fresh.length - batch.length, moved: toMove.length };
}
