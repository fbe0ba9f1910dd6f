-- The batch path's transform: raw dump rows -> the warehouse's invoice lines, or bad rows with their reason.
-- ONE statement, run unchanged by the Glue Spark job (glue/load_dump.py) and, offline and in tests, by DuckDB
-- (packages/local-glue) with temporary macros for `rlike` and `to_timestamp`. It mirrors packages/transactions
-- (parseSourceRow + groupInvoices + normaliseInvoice): same checks in the same order, same derived values.
--
-- Input views, provided by the engine's I/O layer:
--   raw_rows(source_file, source_line, c01 .. c12, parse_error, parse_raw)
--     one row per CSV record in file order; c01..c08 are the 8 header columns as written (empty field = '',
--     missing field = NULL, up to 4 extra fields in c09..c12); parse_error/parse_raw describe a record the CSV
--     reader could not split (its fields are then all NULL).
--   load_params(store_id)  one row: the store the dump belongs to.
-- Output: every input row once. reject_field IS NULL marks a line for the warehouse; otherwise
-- (reject_field, reject_reason, raw) form the bad-row record of packages/transactions.
--
-- Rules that keep Spark SQL and DuckDB agreeing (see DESIGN.md): every cast is guarded by an anchored regex; the
-- date style is chosen by regex, never by trying patterns; no backslashes in literals ([.] and [0-9]); no
-- lookarounds; no concat with NULL; money widened before multiplying.
WITH fields AS (
  SELECT
    r.source_file,
    r.source_line,
    r.parse_error,
    CASE
      WHEN r.parse_error IS NOT NULL THEN 0
      WHEN r.c12 IS NOT NULL THEN 12 WHEN r.c11 IS NOT NULL THEN 11 WHEN r.c10 IS NOT NULL THEN 10
      WHEN r.c09 IS NOT NULL THEN 9 WHEN r.c08 IS NOT NULL THEN 8 WHEN r.c07 IS NOT NULL THEN 7
      WHEN r.c06 IS NOT NULL THEN 6 WHEN r.c05 IS NOT NULL THEN 5 WHEN r.c04 IS NOT NULL THEN 4
      WHEN r.c03 IS NOT NULL THEN 3 WHEN r.c02 IS NOT NULL THEN 2 WHEN r.c01 IS NOT NULL THEN 1
      ELSE 0
    END AS field_count,
    CASE
      WHEN r.parse_error IS NOT NULL THEN coalesce(r.parse_raw, '')
      ELSE concat_ws(',', r.c01, r.c02, r.c03, r.c04, r.c05, r.c06, r.c07, r.c08, r.c09, r.c10, r.c11, r.c12)
    END AS raw,
    r.c01 AS invoice_no,
    r.c02 AS stock_code,
    r.c03 AS description_text,
    r.c04 AS quantity_text,
    r.c05 AS date_text,
    r.c06 AS price_text,
    r.c07 AS customer_text,
    r.c08 AS country,
    p.store_id
  FROM raw_rows r
  CROSS JOIN load_params p
),
-- The three date styles of the dataset, each by an anchored pattern; all month first, two-digit years are 20yy.
date_parts AS (
  SELECT
    f.*,
    CASE
      WHEN rlike(date_text, '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}[ T][0-9]{1,2}:[0-9]{2}(:[0-9]{2})?$') THEN 'ymd'
      WHEN rlike(date_text, '^[0-9]{1,2}/[0-9]{1,2}/([0-9]{4}|[0-9]{2}) [0-9]{1,2}:[0-9]{2}(:[0-9]{2})?$') THEN 'mdy'
      WHEN rlike(date_text, '^[0-9]{1,2}-[0-9]{1,2}-[0-9]{2} [0-9]{1,2}:[0-9]{2}(:[0-9]{2})?$') THEN 'mdy'
    END AS date_style,
    regexp_extract(coalesce(date_text, ''), '^([0-9]+)[-/]([0-9]+)[-/]([0-9]+)[ T]([0-9]+):([0-9]+)(:([0-9]+))?$', 1) AS d1,
    regexp_extract(coalesce(date_text, ''), '^([0-9]+)[-/]([0-9]+)[-/]([0-9]+)[ T]([0-9]+):([0-9]+)(:([0-9]+))?$', 2) AS d2,
    regexp_extract(coalesce(date_text, ''), '^([0-9]+)[-/]([0-9]+)[-/]([0-9]+)[ T]([0-9]+):([0-9]+)(:([0-9]+))?$', 3) AS d3,
    regexp_extract(coalesce(date_text, ''), '^([0-9]+)[-/]([0-9]+)[-/]([0-9]+)[ T]([0-9]+):([0-9]+)(:([0-9]+))?$', 4) AS d_hour,
    regexp_extract(coalesce(date_text, ''), '^([0-9]+)[-/]([0-9]+)[-/]([0-9]+)[ T]([0-9]+):([0-9]+)(:([0-9]+))?$', 5) AS d_minute,
    regexp_extract(coalesce(date_text, ''), '^([0-9]+)[-/]([0-9]+)[-/]([0-9]+)[ T]([0-9]+):([0-9]+)(:([0-9]+))?$', 7) AS d_second
  FROM fields f
),
dated AS (
  SELECT
    d.*,
    CASE WHEN date_style IS NULL THEN NULL ELSE concat(
      CASE WHEN date_style = 'ymd' THEN d1 WHEN length(d3) = 2 THEN concat('20', d3) ELSE d3 END, '-',
      lpad(CASE WHEN date_style = 'ymd' THEN d2 ELSE d1 END, 2, '0'), '-',
      lpad(CASE WHEN date_style = 'ymd' THEN d3 ELSE d2 END, 2, '0'), 'T',
      lpad(d_hour, 2, '0'), ':', d_minute, ':',
      CASE WHEN d_second = '' THEN '00' ELSE d_second END
    ) END AS iso_date
  FROM date_parts d
),
-- Field checks, in the order parseSourceRow makes them; the first failing field is the one reported.
checked AS (
  SELECT
    d.*,
    CASE
      WHEN parse_error IS NOT NULL THEN '(row)'
      WHEN field_count <> 8 THEN '(row)'
      WHEN NOT rlike(invoice_no, '^[CA]?[0-9]{1,20}$') THEN 'InvoiceNo'
      WHEN stock_code = '' THEN 'StockCode'
      WHEN NOT rlike(quantity_text, '^[+-]?[0-9]{1,10}$') THEN 'Quantity'
      WHEN iso_date IS NULL OR to_timestamp(replace(iso_date, 'T', ' '), 'yyyy-MM-dd HH:mm:ss') IS NULL THEN 'InvoiceDate'
      -- at most 15 integer digits: the warehouse's NUMERIC(18,3)
      WHEN NOT rlike(price_text, '^[+-]?0*[0-9]{1,15}([.][0-9]{1,3}0*)?$') THEN 'UnitPrice'
      WHEN customer_text <> '' AND NOT rlike(customer_text, '^[0-9]{1,20}([.]0+)?$') THEN 'CustomerID'
      WHEN country = '' THEN 'Country'
    END AS field_error
  FROM dated d
),
reasoned AS (
  SELECT
    c.*,
    CASE field_error
      WHEN '(row)' THEN CASE WHEN parse_error IS NOT NULL THEN parse_error
        ELSE concat('expected 8 fields, found ', CASE WHEN field_count = 12 THEN '12 or more' ELSE CAST(field_count AS STRING) END) END
      WHEN 'InvoiceNo' THEN concat('not an invoice number: "', invoice_no, '"')
      WHEN 'StockCode' THEN 'empty'
      WHEN 'Quantity' THEN concat('not a whole number: "', quantity_text, '"')
      WHEN 'InvoiceDate' THEN concat('not a date in a known style: "', date_text, '"')
      WHEN 'UnitPrice' THEN concat('not an exact decimal with at most 3 decimals: "', price_text, '"')
      WHEN 'CustomerID' THEN concat('not a customer id: "', customer_text, '"')
      WHEN 'Country' THEN 'empty'
    END AS field_reason,
    CASE WHEN field_error IS NULL THEN CASE
      WHEN regexp_extract(quantity_text, '^([+-]?)([0-9]+)$', 1) = '-' THEN CAST(concat('-', regexp_extract(quantity_text, '^([+-]?)([0-9]+)$', 2)) AS BIGINT)
      ELSE CAST(regexp_extract(quantity_text, '^([+-]?)([0-9]+)$', 2) AS BIGINT)
    END END AS quantity,
    CASE WHEN field_error IS NULL THEN CAST(concat(
      CASE WHEN regexp_extract(price_text, '^([+-]?)([0-9]+)([.]([0-9]{1,3})0*)?$', 1) = '-' THEN '-' ELSE '' END,
      regexp_extract(price_text, '^([+-]?)([0-9]+)([.]([0-9]{1,3})0*)?$', 2),
      CASE WHEN regexp_extract(price_text, '^([+-]?)([0-9]+)([.]([0-9]{1,3})0*)?$', 4) = '' THEN ''
        ELSE concat('.', regexp_extract(price_text, '^([+-]?)([0-9]+)([.]([0-9]{1,3})0*)?$', 4)) END
    ) AS DECIMAL(18,3)) END AS unit_price,
    CASE WHEN field_error IS NULL AND customer_text <> '' THEN regexp_extract(customer_text, '^([0-9]{1,20})([.]0+)?$', 1) END AS customer_id,
    CASE WHEN description_text = '' THEN NULL ELSE description_text END AS description
  FROM checked c
),
-- groupInvoices: an invoice's customer and country are those of its first line; a later line that differs is a bad
-- row (and does not count). Invoices are numbered within (file, invoice): see glue/README.md on split invoices.
firsts AS (
  SELECT
    r.*,
    first_value(concat(coalesce(customer_id, ''), '|', country)) OVER (
      PARTITION BY source_file, invoice_no ORDER BY source_line ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS first_customer_country,
    first_value(source_line) OVER (
      PARTITION BY source_file, invoice_no ORDER BY source_line ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS first_line
  FROM reasoned r
  WHERE field_error IS NULL
),
grouped AS (
  SELECT
    f.*,
    CASE WHEN concat(coalesce(customer_id, ''), '|', country) <> first_customer_country THEN 'CustomerID' END AS group_error
  FROM firsts f
),
-- The invoice schema's limits (packages/transactions sink-limits: INTEGER quantity, UTF-8 bytes of the VARCHARs,
-- the line total's NUMERIC(20,3)): a violation rejects the whole invoice. transform.test.ts holds them equal.
limited AS (
  SELECT
    g.*,
    count(*) OVER (PARTITION BY source_file, invoice_no) AS invoice_lines,
    max(CASE WHEN quantity < -2147483648 OR quantity > 2147483647 OR octet_length(stock_code) > 200
      OR octet_length(coalesce(description, '')) > 2000 OR octet_length(country) > 2000
      OR abs(CAST(quantity AS DECIMAL(20,0)) * unit_price) > 99999999999999999.999 THEN 1 ELSE 0 END)
      OVER (PARTITION BY source_file, invoice_no) AS invoice_over_limits,
    row_number() OVER (PARTITION BY source_file, invoice_no ORDER BY source_line) AS line_in_file
  FROM grouped g
  WHERE group_error IS NULL
),
lines AS (
  SELECT
    l.*,
    CASE
      WHEN invoice_lines > 5000 THEN 'lines: an invoice has at most 5000 lines'
      WHEN invoice_over_limits = 1 THEN 'a line is over the invoice limits (quantity an INTEGER, stock code at most 200 bytes, description and country at most 2000 bytes, line total within NUMERIC(20,3))'
    END AS invoice_error
  FROM limited l
)
SELECT
  r.source_file,
  r.source_line,
  CASE
    WHEN r.field_error IS NOT NULL THEN r.field_error
    WHEN g.group_error IS NOT NULL THEN g.group_error
    WHEN l.invoice_error IS NOT NULL THEN '(invoice)'
  END AS reject_field,
  CASE
    WHEN r.field_error IS NOT NULL THEN r.field_reason
    WHEN g.group_error IS NOT NULL THEN concat('customer/country differ from line 1 of invoice ', r.invoice_no, ' (line ', CAST(g.first_line AS STRING), ')')
    WHEN l.invoice_error IS NOT NULL THEN l.invoice_error
  END AS reject_reason,
  r.raw,
  CASE WHEN l.invoice_error IS NULL THEN l.line_in_file END AS line_in_file,
  CASE WHEN l.line_in_file IS NOT NULL AND l.invoice_error IS NULL THEN r.invoice_no END AS invoice_no,
  CASE WHEN l.invoice_error IS NOT NULL OR l.line_in_file IS NULL THEN NULL
    WHEN substr(r.invoice_no, 1, 1) = 'C' THEN 'cancellation'
    WHEN substr(r.invoice_no, 1, 1) = 'A' THEN 'adjustment'
    ELSE 'sale'
  END AS invoice_type,
  CASE WHEN l.invoice_error IS NULL THEN l.iso_date END AS invoice_date,
  CASE WHEN l.invoice_error IS NULL THEN l.customer_id END AS customer_id,
  CASE WHEN l.invoice_error IS NULL THEN l.country END AS country,
  CASE WHEN l.invoice_error IS NULL THEN l.store_id END AS store_id,
  CASE WHEN l.invoice_error IS NULL THEN l.stock_code END AS stock_code,
  CASE WHEN l.invoice_error IS NULL THEN l.description END AS description,
  CASE WHEN l.invoice_error IS NULL THEN CAST(l.quantity AS INT) END AS quantity,
  CASE WHEN l.invoice_error IS NULL THEN l.unit_price END AS unit_price,
  -- widened before multiplying: DuckDB overflows DECIMAL(18,3) where Spark widens
  CASE WHEN l.invoice_error IS NULL THEN CAST(CAST(l.quantity AS DECIMAL(20,0)) * l.unit_price AS DECIMAL(20,3)) END AS line_total
FROM reasoned r
LEFT JOIN grouped g ON g.source_file = r.source_file AND g.source_line = r.source_line
LEFT JOIN lines l ON l.source_file = r.source_file AND l.source_line = r.source_line
