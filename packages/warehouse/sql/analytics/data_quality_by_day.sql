-- Data quality per day: lines by invoice day (without a customer, without a description, at a zero price, on a
-- non-product code) and objects set aside by the day they were set aside (stream bad rows, rejected dump rows).
SELECT
  TO_CHAR(COALESCE(l.day, r.day), 'YYYY-MM-DD') AS day,
  COALESCE(l.lines, 0) AS lines,
  COALESCE(l.without_customer, 0) AS without_customer,
  COALESCE(l.without_description, 0) AS without_description,
  COALESCE(l.zero_price, 0) AS zero_price,
  COALESCE(l.non_product, 0) AS non_product,
  COALESCE(r.bad_rows, 0) AS bad_rows,
  COALESCE(r.rejected_dump_rows, 0) AS rejected_dump_rows
FROM (
  SELECT
    f.invoice_day AS day,
    CAST(COUNT(*) AS INTEGER) AS lines,
    CAST(SUM(CASE WHEN f.customer_id IS NULL THEN 1 ELSE 0 END) AS INTEGER) AS without_customer,
    CAST(SUM(CASE WHEN f.description IS NULL THEN 1 ELSE 0 END) AS INTEGER) AS without_description,
    CAST(SUM(CASE WHEN f.unit_price = 0 THEN 1 ELSE 0 END) AS INTEGER) AS zero_price,
    CAST(SUM(CASE WHEN p.is_product THEN 0 ELSE 1 END) AS INTEGER) AS non_product
  FROM fact_invoice_lines f
  JOIN dim_product p ON p.stock_code = f.stock_code
  GROUP BY f.invoice_day
) l
FULL OUTER JOIN (
  SELECT
    rejected_on AS day,
    CAST(SUM(CASE WHEN source = 'bad-row' THEN row_count ELSE 0 END) AS INTEGER) AS bad_rows,
    CAST(SUM(CASE WHEN source = 'dump-row' THEN row_count ELSE 0 END) AS INTEGER) AS rejected_dump_rows
  FROM pipeline_rejects
  GROUP BY rejected_on
) r ON r.day = l.day
ORDER BY 1;
