import type { NormalisedLine } from './schemas';

/**
 * The warehouse table of invoice lines, one definition for Redshift and the local Postgres.
 * `redshift` and `postgres` differ only where the engines do; dist/sort keys are Redshift-only.
 */
export interface WarehouseColumn {
  name: keyof WarehouseRow;
  type: string;
  nullable: boolean;
}

export interface WarehouseRow {
  invoice_no: string;
  line_no: number;
  invoice_type: string;
  invoice_date: string;
  customer_id: string | null;
  country: string;
  store_id: string;
  stock_code: string;
  description: string | null;
  quantity: number;
  unit_price: string;
  line_total: string;
}

export const WAREHOUSE_COLUMNS: readonly WarehouseColumn[] = [
  { name: 'invoice_no', type: 'VARCHAR(24)', nullable: false },
  { name: 'line_no', type: 'INTEGER', nullable: false },
  { name: 'invoice_type', type: 'VARCHAR(16)', nullable: false },
  { name: 'invoice_date', type: 'TIMESTAMP', nullable: false },
  { name: 'customer_id', type: 'VARCHAR(64)', nullable: true },
  { name: 'country', type: 'VARCHAR(2000)', nullable: false },
  { name: 'store_id', type: 'VARCHAR(64)', nullable: false },
  { name: 'stock_code', type: 'VARCHAR(2000)', nullable: false },
  { name: 'description', type: 'VARCHAR(2000)', nullable: true },
  { name: 'quantity', type: 'INTEGER', nullable: false },
  { name: 'unit_price', type: 'NUMERIC(18,3)', nullable: false },
  { name: 'line_total', type: 'NUMERIC(20,3)', nullable: false },
];

/** The identity of a line in every sink. */
export const WAREHOUSE_KEY = ['invoice_no', 'line_no'] as const;

export function toWarehouseRow(line: NormalisedLine): WarehouseRow {
  return {
    invoice_no: line.invoiceNo,
    line_no: line.lineNo,
    invoice_type: line.invoiceType,
    invoice_date: line.invoiceDate,
    customer_id: line.customerId,
    country: line.country,
    store_id: line.storeId,
    stock_code: line.stockCode,
    description: line.description,
    quantity: line.quantity,
    unit_price: line.unitPrice,
    line_total: line.lineTotal,
  };
}

/**
 * Warehouse DDL, one definition for both engines. Redshift adds distribution and sort keys; Postgres (the local
 * stand-in) enforces the key. Firehose COPYs into the staging table; a merge moves staged rows into the table analysts
 * read, one row per (invoice_no, line_no), so at-least-once delivery never shows a duplicate.
 */
export type WarehouseDialect = 'postgres' | 'redshift';

export const WAREHOUSE_TABLES = {
  lines: 'invoice_lines',
  staging: 'invoice_lines_staging',
  migrations: 'schema_migrations',
} as const;

const columnList = (indent = '  ') => WAREHOUSE_COLUMNS.map((c) => `${indent}${c.name} ${c.type}${c.nullable ? '' : ' NOT NULL'}`).join(',\n');

export interface WarehouseMigration {
  version: number;
  name: string;
  statements: (dialect: WarehouseDialect) => string[];
}

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
];

/** DDL of the migrations table itself (same on both engines). */
export const MIGRATIONS_TABLE_DDL = `CREATE TABLE IF NOT EXISTS ${WAREHOUSE_TABLES.migrations} (\n  version INTEGER NOT NULL PRIMARY KEY,\n  name VARCHAR(200) NOT NULL,\n  applied_at TIMESTAMP NOT NULL\n);`;

/**
 * Statements that merge staged rows into invoice_lines, to run in one transaction. The lock keeps a concurrent COPY
 * from landing between the MERGE and the DELETE (it would be deleted unmerged). Duplicates within staging (a
 * redelivered batch) collapse to the latest load. MERGE is valid on Redshift and on Postgres 15+.
 */
export function mergeStagedStatements(dialect: WarehouseDialect): string[] {
  const names = WAREHOUSE_COLUMNS.map((c) => c.name);
  const now = dialect === 'redshift' ? 'GETDATE()' : 'now()';
  const lock = dialect === 'redshift' ? `LOCK ${WAREHOUSE_TABLES.staging};` : `LOCK TABLE ${WAREHOUSE_TABLES.staging} IN EXCLUSIVE MODE;`;
  const on = WAREHOUSE_KEY.map((k) => `${WAREHOUSE_TABLES.lines}.${k} = src.${k}`).join(' AND ');
  return [
    lock,
    [
      `MERGE INTO ${WAREHOUSE_TABLES.lines}`,
      `USING (`,
      `  SELECT ${names.join(', ')} FROM (`,
      `    SELECT *, ROW_NUMBER() OVER (PARTITION BY ${WAREHOUSE_KEY.join(', ')} ORDER BY loaded_at DESC) AS copy_rank`,
      `    FROM ${WAREHOUSE_TABLES.staging}`,
      `  ) ranked WHERE copy_rank = 1`,
      `) AS src`,
      `ON ${on}`,
      `WHEN MATCHED THEN UPDATE SET ${names.filter((n) => !(WAREHOUSE_KEY as readonly string[]).includes(n)).map((n) => `${n} = src.${n}`).join(', ')}, merged_at = ${now}`,
      `WHEN NOT MATCHED THEN INSERT (${names.join(', ')}, merged_at) VALUES (${names.map((n) => `src.${n}`).join(', ')}, ${now});`,
    ].join('\n'),
    `DELETE FROM ${WAREHOUSE_TABLES.staging};`,
  ];
}

/** The full Redshift DDL, for a data engineer to review or apply by hand (docs/warehouse/redshift.sql). */
export function redshiftDdl(): string {
  const parts = [MIGRATIONS_TABLE_DDL, ...WAREHOUSE_MIGRATIONS.flatMap((m) => [`-- migration ${m.version}: ${m.name}`, ...m.statements('redshift')])];
  return `-- Generated from packages/transactions/src/warehouse.ts by \`pnpm openapi\`. Do not edit by hand.\n${parts.join('\n\n')}\n\n-- merge of staged rows (run in one transaction, e.g. by a scheduled query)\nBEGIN;\n${mergeStagedStatements('redshift').join('\n')}\nCOMMIT;\n`;
}
