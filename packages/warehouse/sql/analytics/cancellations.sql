-- Cancellations {{grain}}: invoice rate = cancellation invoices / (sale + cancellation invoices),
-- unit rate = cancelled units / sold units; rates rounded to 4 decimals.
SELECT
  {{dimension}} AS grouped_by,
  {{label}} AS label,
  CAST(COUNT(DISTINCT f.sale_invoice_no) AS INTEGER) AS sale_invoices,
  CAST(COUNT(DISTINCT f.cancellation_invoice_no) AS INTEGER) AS cancellation_invoices,
  CAST(SUM(f.sold_quantity) AS INTEGER) AS sold_units,
  CAST(SUM(f.cancelled_quantity) AS INTEGER) AS cancelled_units,
  CAST(COALESCE(SUM(f.cancelled_amount), 0) AS VARCHAR(40)) AS cancelled_value,
  CAST(ROUND(
    CAST(COUNT(DISTINCT f.cancellation_invoice_no) AS NUMERIC(18,6))
    / NULLIF(COUNT(DISTINCT f.sale_invoice_no) + COUNT(DISTINCT f.cancellation_invoice_no), 0), 4) AS VARCHAR(40)) AS invoice_rate,
  CAST(ROUND(CAST(SUM(f.cancelled_quantity) AS NUMERIC(18,6)) / NULLIF(SUM(f.sold_quantity), 0), 4) AS VARCHAR(40)) AS unit_rate
FROM fact_invoice_lines f
JOIN dim_product p ON p.stock_code = f.stock_code
WHERE {{scope}}
{{group_and_order}};
