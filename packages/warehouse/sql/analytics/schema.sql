-- The analytics layer over invoice_lines: a dimensional layer (dates, products, customers, RFM scores) rebuilt from
-- the lines by rebuild.sql, the rows the pipeline set aside (pipeline_rejects), and one view of every line with its
-- measures split by invoice type. Idempotent: every statement can run again.
CREATE TABLE IF NOT EXISTS dim_date (
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
