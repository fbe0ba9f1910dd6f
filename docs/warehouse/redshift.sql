-- Generated from packages/warehouse/src by `pnpm openapi`. Do not edit by hand.
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER NOT NULL PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  applied_at TIMESTAMP NOT NULL
);

-- migration 1: invoice lines and their staging table

CREATE TABLE IF NOT EXISTS invoice_lines (
  invoice_no VARCHAR(24) NOT NULL,
  line_no INTEGER NOT NULL,
  invoice_type VARCHAR(16) NOT NULL,
  invoice_date TIMESTAMP NOT NULL,
  customer_id VARCHAR(64),
  country VARCHAR(2000) NOT NULL,
  store_id VARCHAR(64) NOT NULL,
  stock_code VARCHAR(2000) NOT NULL,
  description VARCHAR(2000),
  quantity INTEGER NOT NULL,
  unit_price NUMERIC(18,3) NOT NULL,
  line_total NUMERIC(20,3) NOT NULL,
  merged_at TIMESTAMP NOT NULL DEFAULT GETDATE(),
  PRIMARY KEY (invoice_no, line_no)
)
DISTSTYLE KEY DISTKEY (invoice_no) COMPOUND SORTKEY (invoice_date, invoice_no);

CREATE TABLE IF NOT EXISTS invoice_lines_staging (
  invoice_no VARCHAR(24) NOT NULL,
  line_no INTEGER NOT NULL,
  invoice_type VARCHAR(16) NOT NULL,
  invoice_date TIMESTAMP NOT NULL,
  customer_id VARCHAR(64),
  country VARCHAR(2000) NOT NULL,
  store_id VARCHAR(64) NOT NULL,
  stock_code VARCHAR(2000) NOT NULL,
  description VARCHAR(2000),
  quantity INTEGER NOT NULL,
  unit_price NUMERIC(18,3) NOT NULL,
  line_total NUMERIC(20,3) NOT NULL,
  loaded_at TIMESTAMP NOT NULL DEFAULT GETDATE()
)
DISTSTYLE KEY DISTKEY (invoice_no);

-- migration 2: batch staging, invoice segments of dump files, dump loads

CREATE TABLE IF NOT EXISTS invoice_lines_batch_staging (
  invoice_no VARCHAR(24) NOT NULL,
  invoice_type VARCHAR(16) NOT NULL,
  invoice_date TIMESTAMP NOT NULL,
  customer_id VARCHAR(64),
  country VARCHAR(2000) NOT NULL,
  store_id VARCHAR(64) NOT NULL,
  stock_code VARCHAR(2000) NOT NULL,
  description VARCHAR(2000),
  quantity INTEGER NOT NULL,
  unit_price NUMERIC(18,3) NOT NULL,
  line_total NUMERIC(20,3) NOT NULL,
  source_file VARCHAR(1024) NOT NULL,
  source_line INTEGER NOT NULL,
  line_in_file INTEGER NOT NULL,
  loaded_at TIMESTAMP NOT NULL DEFAULT GETDATE()
)
DISTSTYLE KEY DISTKEY (invoice_no);

CREATE TABLE IF NOT EXISTS batch_invoice_segments (
  invoice_no VARCHAR(24) NOT NULL,
  source_file VARCHAR(1024) NOT NULL,
  first_line_no INTEGER NOT NULL,
  line_count INTEGER NOT NULL,
  assigned_at TIMESTAMP NOT NULL DEFAULT GETDATE(),
  PRIMARY KEY (invoice_no, source_file)
)
DISTSTYLE KEY DISTKEY (invoice_no);

CREATE TABLE IF NOT EXISTS batch_loads (
  source_file VARCHAR(1024) NOT NULL PRIMARY KEY,
  lines INTEGER NOT NULL,
  rejected INTEGER NOT NULL,
  merged_at TIMESTAMP NOT NULL
);

-- migration 3: record_version: the newest delivery of an invoice wins

ALTER TABLE invoice_lines ADD COLUMN record_version VARCHAR(64) NOT NULL DEFAULT '';

ALTER TABLE invoice_lines_staging ADD COLUMN record_version VARCHAR(64) NOT NULL DEFAULT '';

ALTER TABLE invoice_lines_batch_staging ADD COLUMN record_version VARCHAR(64) NOT NULL DEFAULT '';

-- migration 4: staged files loaded: a staged file is COPYed once

CREATE TABLE IF NOT EXISTS staged_files_loaded (
  file_key VARCHAR(1024) NOT NULL PRIMARY KEY,
  bytes BIGINT NOT NULL,
  loaded_at TIMESTAMP NOT NULL
);

-- migration 5: analytics layer, and the analysts' read-only role

CREATE ROLE analysts;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;

GRANT USAGE ON SCHEMA public TO ROLE analysts;

CREATE TABLE IF NOT EXISTS dim_date (
  date_key DATE NOT NULL PRIMARY KEY,
  week_start DATE NOT NULL,
  month_start DATE NOT NULL,
  month_index INTEGER NOT NULL
) DISTSTYLE ALL;

CREATE TABLE IF NOT EXISTS dim_product (
  stock_code VARCHAR(2000) NOT NULL PRIMARY KEY,
  description VARCHAR(2000),
  code_kind VARCHAR(32) NOT NULL,
  is_product BOOLEAN NOT NULL
) DISTSTYLE ALL;

CREATE TABLE IF NOT EXISTS dim_customer (
  customer_id VARCHAR(64) NOT NULL PRIMARY KEY,
  country VARCHAR(2000) NOT NULL,
  first_sale_at TIMESTAMP,
  last_sale_at TIMESTAMP,
  cohort_month DATE,
  cohort_month_index INTEGER,
  sale_invoices INTEGER NOT NULL,
  net_revenue NUMERIC(20,3) NOT NULL
) DISTSTYLE ALL;

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
) DISTSTYLE ALL;

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

GRANT SELECT ON TABLE invoice_lines, dim_date, dim_product, dim_customer, customer_rfm, pipeline_rejects, fact_invoice_lines TO ROLE analysts;

-- migration 6: batch staging unlogged (Postgres)

-- migration 7: stream staging unlogged (Postgres)

-- merge of staged rows (run in one transaction, e.g. by a scheduled query)
BEGIN;
LOCK invoice_lines_staging;
DROP TABLE IF EXISTS invoice_lines_merge_versions;
CREATE TEMP TABLE invoice_lines_merge_versions AS SELECT staged.invoice_no, MAX(staged.record_version) AS record_version FROM invoice_lines_staging staged GROUP BY staged.invoice_no;
DELETE FROM invoice_lines_merge_versions USING invoice_lines WHERE invoice_lines.invoice_no = invoice_lines_merge_versions.invoice_no AND invoice_lines.record_version > invoice_lines_merge_versions.record_version;
DELETE FROM invoice_lines USING invoice_lines_merge_versions src WHERE invoice_lines.invoice_no = src.invoice_no AND invoice_lines.record_version < src.record_version;
DROP TABLE IF EXISTS invoice_lines_merge_source;
CREATE TEMP TABLE invoice_lines_merge_source AS
SELECT ranked.invoice_no, ranked.line_no, ranked.invoice_type, ranked.invoice_date, ranked.customer_id, ranked.country, ranked.store_id, ranked.stock_code, ranked.description, ranked.quantity, ranked.unit_price, ranked.line_total, ranked.record_version FROM (
  SELECT staged.invoice_no, staged.line_no, staged.invoice_type, staged.invoice_date, staged.customer_id, staged.country, staged.store_id, staged.stock_code, staged.description, staged.quantity, staged.unit_price, staged.line_total, staged.record_version,
    ROW_NUMBER() OVER (PARTITION BY staged.invoice_no, staged.line_no ORDER BY staged.record_version DESC, staged.loaded_at DESC) AS copy_rank
  FROM invoice_lines_staging staged
) ranked
JOIN invoice_lines_merge_versions versions ON versions.invoice_no = ranked.invoice_no AND versions.record_version = ranked.record_version
WHERE ranked.copy_rank = 1;
MERGE INTO invoice_lines USING invoice_lines_merge_source AS src
ON invoice_lines.invoice_no = src.invoice_no AND invoice_lines.line_no = src.line_no
WHEN MATCHED THEN UPDATE SET invoice_type = src.invoice_type, invoice_date = src.invoice_date, customer_id = src.customer_id, country = src.country, store_id = src.store_id, stock_code = src.stock_code, description = src.description, quantity = src.quantity, unit_price = src.unit_price, line_total = src.line_total, record_version = src.record_version, merged_at = GETDATE()
WHEN NOT MATCHED THEN INSERT (invoice_no, line_no, invoice_type, invoice_date, customer_id, country, store_id, stock_code, description, quantity, unit_price, line_total, record_version, merged_at) VALUES (src.invoice_no, src.line_no, src.invoice_type, src.invoice_date, src.customer_id, src.country, src.store_id, src.stock_code, src.description, src.quantity, src.unit_price, src.line_total, src.record_version, GETDATE());
DELETE FROM invoice_lines_staging;
DROP TABLE invoice_lines_merge_source;
DROP TABLE invoice_lines_merge_versions;
COMMIT;
