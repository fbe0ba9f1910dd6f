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

-- merge of staged rows (run in one transaction, e.g. by a scheduled query)
BEGIN;
LOCK invoice_lines_staging;
DROP TABLE IF EXISTS invoice_lines_merge_source;
CREATE TEMP TABLE invoice_lines_merge_source AS
SELECT ranked.invoice_no, ranked.line_no, ranked.invoice_type, ranked.invoice_date, ranked.customer_id, ranked.country, ranked.store_id, ranked.stock_code, ranked.description, ranked.quantity, ranked.unit_price, ranked.line_total, ranked.record_version FROM (
  SELECT staged.*, ROW_NUMBER() OVER (PARTITION BY staged.invoice_no, staged.line_no ORDER BY staged.loaded_at DESC) AS copy_rank
  FROM invoice_lines_staging staged
  JOIN (SELECT invoice_no, MAX(record_version) AS record_version FROM invoice_lines_staging GROUP BY invoice_no) newest
    ON staged.invoice_no = newest.invoice_no AND staged.record_version = newest.record_version
) ranked
LEFT JOIN (
  SELECT invoice_no, MAX(record_version) AS record_version FROM invoice_lines
  WHERE invoice_no IN (SELECT invoice_no FROM invoice_lines_staging) GROUP BY invoice_no
) landed ON landed.invoice_no = ranked.invoice_no
WHERE ranked.copy_rank = 1 AND (landed.record_version IS NULL OR landed.record_version <= ranked.record_version);
DELETE FROM invoice_lines USING invoice_lines_merge_source src WHERE invoice_lines.invoice_no = src.invoice_no AND invoice_lines.record_version < src.record_version;
MERGE INTO invoice_lines USING invoice_lines_merge_source AS src
ON invoice_lines.invoice_no = src.invoice_no AND invoice_lines.line_no = src.line_no
WHEN MATCHED THEN UPDATE SET invoice_type = src.invoice_type, invoice_date = src.invoice_date, customer_id = src.customer_id, country = src.country, store_id = src.store_id, stock_code = src.stock_code, description = src.description, quantity = src.quantity, unit_price = src.unit_price, line_total = src.line_total, record_version = src.record_version, merged_at = GETDATE()
WHEN NOT MATCHED THEN INSERT (invoice_no, line_no, invoice_type, invoice_date, customer_id, country, store_id, stock_code, description, quantity, unit_price, line_total, record_version, merged_at) VALUES (src.invoice_no, src.line_no, src.invoice_type, src.invoice_date, src.customer_id, src.country, src.store_id, src.stock_code, src.description, src.quantity, src.unit_price, src.line_total, src.record_version, GETDATE());
DELETE FROM invoice_lines_staging;
DROP TABLE invoice_lines_merge_source;
COMMIT;
