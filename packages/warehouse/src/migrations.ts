import { RECORD_VERSION_DIGITS } from '@invoice-pipeline/transactions';
import { analystsRoleStatements, analyticsSchemaStatements, grantAnalystsStatement } from './analytics-layer';
import { BATCH_TABLES, batchTableStatements } from './batch';
import { columnsAsOf, WAREHOUSE_KEY, WAREHOUSE_TABLES, type WarehouseDialect } from './contract';

/**
 * Warehouse DDL as numbered migrations, one definition for both engines. Redshift adds distribution and sort keys;
 * Postgres (the local stand-in) adds indexes. The loader COPYs staged files into the staging table; the merge moves staged
 * rows into the table analysts read.
 */
export interface WarehouseMigration {
  version: number;
  name: string;
  statements: (dialect: WarehouseDialect) => string[];
}

// Migration 1 creates the columns it had; later columns are added by the migration that introduced them.
const columnList = (indent = '  ') => columnsAsOf(1).map((c) => `${indent}${c.name} ${c.type}${c.nullable ? '' : ' NOT NULL'}`).join(',\n');

export const WAREHOUSE_MIGRATIONS: readonly WarehouseMigration[] = [
  {
    version: 1,
    name: 'invoice lines and their staging table',
    statements: (dialect) => {
      const now = dialect === 'redshift' ? 'GETDATE()' : 'now()';
      const linesKeys = dialect === 'redshift' ? '\nDISTSTYLE KEY DISTKEY (invoice_no) COMPOUND SORTKEY (invoice_date, invoice_no)' : '';
      const stagingKeys = dialect === 'redshift' ? '\nDISTSTYLE KEY DISTKEY (invoice_no)' : '';
      const statements = [
        `CREATE TABLE IF NOT EXISTS ${WAREHOUSE_TABLES.lines} (\n${columnList()},\n  merged_at TIMESTAMP NOT NULL DEFAULT ${now},\n  PRIMARY KEY (${WAREHOUSE_KEY.join(', ')})\n)${linesKeys};`,
        `CREATE TABLE IF NOT EXISTS ${WAREHOUSE_TABLES.staging} (\n${columnList()},\n  loaded_at TIMESTAMP NOT NULL DEFAULT ${now}\n)${stagingKeys};`,
      ];
      if (dialect === 'postgres') {
        statements.push(
          `CREATE INDEX IF NOT EXISTS ${WAREHOUSE_TABLES.lines}_invoice_date ON ${WAREHOUSE_TABLES.lines} (invoice_date);`,
          `CREATE INDEX IF NOT EXISTS ${WAREHOUSE_TABLES.lines}_customer ON ${WAREHOUSE_TABLES.lines} (customer_id, invoice_date);`,
        );
      }
      return statements;
    },
  },
  {
    version: 2,
    name: 'batch staging, invoice segments of dump files, dump loads',
    statements: batchTableStatements,
  },
  {
    version: 3,
    name: 'record_version: the newest delivery of an invoice wins',
    // NOT NULL needs a DEFAULT on Redshift's ADD COLUMN; '' sorts before every version, so older rows always lose.
    statements: () =>
      [WAREHOUSE_TABLES.lines, WAREHOUSE_TABLES.staging, BATCH_TABLES.staging].map(
        (table) => `ALTER TABLE ${table} ADD COLUMN record_version VARCHAR(${RECORD_VERSION_DIGITS}) NOT NULL DEFAULT '';`,
      ),
  },
  {
    version: 4,
    name: 'staged files loaded: a staged file is COPYed once',
    // One row per staged S3 object the loader COPYed, written in the transaction of its COPY and MERGE.
    statements: () => [
      `CREATE TABLE IF NOT EXISTS ${WAREHOUSE_TABLES.loadedFiles} (\n  file_key VARCHAR(1024) NOT NULL PRIMARY KEY,\n  bytes BIGINT NOT NULL,\n  loaded_at TIMESTAMP NOT NULL\n);`,
    ],
  },
  {
    version: 5,
    name: "analytics layer, and the analysts' read-only role",
    // The role first (USAGE on the schema only), then the layer, then SELECT on the lines and the layer: nothing else.
    statements: (dialect) => [...analystsRoleStatements(dialect), ...analyticsSchemaStatements(dialect), grantAnalystsStatement(dialect)],
  },
  {
    version: 6,
    name: 'batch staging unlogged (Postgres)',
    // A dump's staged lines live from its COPY to its merge; after a crash Postgres empties an unlogged table, and the
    // re-run of the dump stages them again (batchFileReplaceStatements). Unlogged, the COPY writes no WAL: on the
    // embedded warehouse it costs about half. Redshift has no UNLOGGED (nor a WAL of this kind): nothing to do there.
    statements: (dialect) => (dialect === 'postgres' ? [`ALTER TABLE ${BATCH_TABLES.staging} SET UNLOGGED;`] : []),
  },
  {
    version: 7,
    name: 'stream staging unlogged (Postgres)',
    // The stream's staged lines live inside one transaction: the loader COPYs the staged files, merges them, records the
    // files as loaded and empties the table, all at once (localLoaderSession). After a crash Postgres empties an unlogged
    // table, and nothing was committed that needed it. Unlogged, that COPY (the whole stream, file by file) writes no WAL.
    statements: (dialect) => (dialect === 'postgres' ? [`ALTER TABLE ${WAREHOUSE_TABLES.staging} SET UNLOGGED;`] : []),
  },
];

/** DDL of the migrations table itself (same on both engines). */
export const MIGRATIONS_TABLE_DDL = `CREATE TABLE IF NOT EXISTS ${WAREHOUSE_TABLES.migrations} (\n  version INTEGER NOT NULL PRIMARY KEY,\n  name VARCHAR(200) NOT NULL,\n  applied_at TIMESTAMP NOT NULL\n);`;
