-- The average sale basket: value, units and lines per sale invoice (rounded to 2 decimals).
SELECT
  CAST(COUNT(*) AS INTEGER) AS sale_invoices,
  CAST(COALESCE(SUM(basket_value), 0) AS VARCHAR(40)) AS sales,
  CAST(ROUND(SUM(basket_value) / NULLIF(COUNT(*), 0), 2) AS VARCHAR(40)) AS avg_value,
  CAST(ROUND(CAST(SUM(basket_units) AS NUMERIC(20,3)) / NULLIF(COUNT(*), 0), 2) AS VARCHAR(40)) AS avg_units,
  CAST(ROUND(CAST(SUM(basket_lines) AS NUMERIC(20,3)) / NULLIF(COUNT(*), 0), 2) AS VARCHAR(40)) AS avg_lines
FROM (
  SELECT invoice_no, SUM(line_total) AS basket_value, SUM(quantity) AS basket_units, COUNT(*) AS basket_lines
  FROM invoice_lines
  WHERE invoice_type = 'sale'
  GROUP BY invoice_no
) baskets;
