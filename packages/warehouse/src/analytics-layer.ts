import { renderSql, type AnalyticsDialect } from './analytics/dialect';
import { WAREHOUSE_TABLES } from './contract';

/**
 * The analytics layer analysts read, and the role they read it with. Lambda-safe (plain strings): the loader applies it
 * as a migration, so a deployed warehouse has the layer and the role before any analyst connects; the dashboard and
 * `pnpm report` run the same script (idempotent) wherever they point.
 */

/**
 * The analytics tables and view, written once for both engines (`{{small_table}}` is the dialect seam's macro): a
 * dimensional layer (dates, products, customers, RFM scores) rebuilt from the lines by rebuild.sql, the rows the
 * pipeline set aside (pipeline_rejects), and one view of every line with its measures split by invoice type.
 * Idempotent: every statement can run again.
 */
export const ANALYTICS_SCHEMA_TEMPLATE = `CREATE TABLE IF NOT EXISTS dim_date (
  date_key DATE NOT NULL PRIMARY KEY,
  week_start DATE NOT NULL,
  month_start DATE NOT NULL,
  month_index INTEGER NOT NULL
) {{small_table}};

CREATE TABLE IF NOT EXISTS dim_product (
  stock_code VARCHAR(2000) NOT NULL PRIMARY KEY,
  description VARCHAR(2000),
  code_kind VARCHAR(32) NOT NULL,
  is_product BOOLEAN NOT NULL
) {{small_table}};

CREATE TABLE IF NOT EXISTS dim_customer (
  customer_id VARCHAR(64) NOT NULL PRIMARY KEY,
  country VARCHAR(2000) NOT NULL,
  first_sale_at TIMESTAMP,
  last_sale_at TIMESTAMP,
  cohort_month DATE,
  cohort_month_index INTEGER,
  sale_invoices INTEGER NOT NULL,
  net_revenue NUMERIC(20,3) NOT NULL
) {{small_table}};

CREATE TABLE IF NOT EXISTS customer_rfm (
  customer_id VARCHAR(64) NOT NULL PRIMARY KEY,
  recency_days INTEGER NOT NULL,
  frequency INTEGER NOT NULL,
  monetary NUMERIC(20,3) NOT NULL,
  r_score INTEGER NOT NULL,
  f_score INTEGER NOT NULL,
  m_score INTEGER NOT NULL,
  rfm_code VARCHAR(3) NOT NULL,
  segment VARCHAR(32) NOT NULL
) {{small_table}};

-- One row per object the pipeline set aside: a stream bad row (s3://<archive>/bad-rows/dt=…/…) or a file of rejected
-- dump rows (s3://<dumps>/rejected/…). Keyed by object, so recording the same listing twice changes nothing.
CREATE TABLE IF NOT EXISTS pipeline_rejects (
  source VARCHAR(16) NOT NULL,
  object_key VARCHAR(1024) NOT NULL,
  rejected_on DATE NOT NULL,
  row_count INTEGER NOT NULL,
  recorded_at TIMESTAMP NOT NULL,
  PRIMARY KEY (source, object_key)
);

CREATE OR REPLACE VIEW fact_invoice_lines AS
SELECT
  invoice_no,
  line_no,
  invoice_type,
  invoice_date,
  CAST(invoice_date AS DATE) AS invoice_day,
  customer_id,
  country,
  stock_code,
  description,
  quantity,
  unit_price,
  line_total,
  CASE WHEN invoice_type = 'sale' THEN line_total ELSE 0 END AS sales_amount,
  CASE WHEN invoice_type = 'cancellation' THEN line_total ELSE 0 END AS cancelled_amount,
  CASE WHEN invoice_type = 'adjustment' THEN line_total ELSE 0 END AS adjustment_amount,
  CASE WHEN invoice_type = 'sale' THEN quantity ELSE 0 END AS sold_quantity,
  CASE WHEN invoice_type = 'cancellation' THEN -quantity ELSE 0 END AS cancelled_quantity,
  CASE WHEN invoice_type = 'sale' THEN invoice_no END AS sale_invoice_no,
  CASE WHEN invoice_type = 'cancellation' THEN invoice_no END AS cancellation_invoice_no,
  CASE WHEN invoice_type = 'sale' THEN customer_id END AS sale_customer_id
FROM invoice_lines;
`;

/** The database role analysts' users are members of: read-only on the analytics objects, nothing else. */
export const ANALYSTS_ROLE = 'analysts';

const withoutComments = (sql: string) => sql.replace(/--[^\n]*/g, '');

/** The tables and the view the analytics script creates, in order. */
export const ANALYTICS_LAYER_OBJECTS: readonly string[] = [
  ...withoutComments(ANALYTICS_SCHEMA_TEMPLATE).matchAll(/\bCREATE (?:TABLE IF NOT EXISTS|OR REPLACE VIEW) ([a-z_]+)/g),
].map((match) => match[1] as string);

/**
 * What analysts may read: the merged lines and the analytics layer. Never the staging tables, the record of loaded files,
 * the batch path's tables or the migrations table (those are the pipeline's own).
 */
export const ANALYST_READABLE: readonly string[] = [WAREHOUSE_TABLES.lines, ...ANALYTICS_LAYER_OBJECTS];

/** The analytics script rendered for one engine, as statements. */
export function analyticsSchemaStatements(dialect: AnalyticsDialect): string[] {
  return withoutComments(renderSql(ANALYTICS_SCHEMA_TEMPLATE, dialect))
    .split(/;\s*(?:\n|$)/)
    .map((statement) => statement.trim())
    .filter(Boolean)
    .map((statement) => `${statement};`);
}

/** Grantee spelling: Redshift names a role with ROLE (a bare name is a user); Postgres has only roles. */
const grantee = (dialect: AnalyticsDialect) => (dialect === 'redshift' ? `ROLE ${ANALYSTS_ROLE}` : ANALYSTS_ROLE);

/**
 * SELECT on what analysts may read, granted again after the script (re)creates the view, so a replaced view never loses
 * it. GRANT is idempotent on both engines.
 */
export function grantAnalystsStatement(dialect: AnalyticsDialect): string {
  return `GRANT SELECT ON TABLE ${ANALYST_READABLE.join(', ')} TO ${grantee(dialect)};`;
}

/**
 * The analysts' role: created without a login (people sign in as their own users, which an administrator makes members
 * of it), may look up objects in the schema (USAGE) and nothing more; nobody but the schema's owner and superusers may
 * create objects in it (REVOKE CREATE … FROM PUBLIC, already the default from Postgres 15, not in Redshift).
 *
 * Roles belong to the server (Postgres) or the namespace (Redshift), not to one database. Postgres creates it only if it
 * does not exist (another database on the server may have made it). Redshift has no CREATE ROLE IF NOT EXISTS and no
 * DO block: the migration runs once per database (versioned), and a stage's namespace holds one database.
 */
export function analystsRoleStatements(dialect: AnalyticsDialect): string[] {
  const create =
    dialect === 'redshift'
      ? `CREATE ROLE ${ANALYSTS_ROLE};`
      : `DO $$ BEGIN CREATE ROLE ${ANALYSTS_ROLE} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;`;
  return [create, 'REVOKE CREATE ON SCHEMA public FROM PUBLIC;', `GRANT USAGE ON SCHEMA public TO ${grantee(dialect)};`];
}
