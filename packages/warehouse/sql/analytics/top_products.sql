-- Top stock codes by {{rank_by}}; {{scope}} keeps goods only (dim_product.is_product) or every code.
-- Net quantity counts sales and cancellations (an adjustment moves no goods).
SELECT
  f.stock_code,
  p.description,
  p.code_kind,
  CAST(SUM(f.line_total) AS VARCHAR(40)) AS net_revenue,
  CAST(SUM(f.sold_quantity - f.cancelled_quantity) AS INTEGER) AS net_quantity,
  CAST(SUM(f.sold_quantity) AS INTEGER) AS sold_quantity,
  CAST(COUNT(DISTINCT f.sale_invoice_no) AS INTEGER) AS sale_invoices
FROM fact_invoice_lines f
JOIN dim_product p ON p.stock_code = f.stock_code
WHERE {{scope}}
GROUP BY f.stock_code, p.description, p.code_kind
ORDER BY {{rank_by}} DESC, f.stock_code
LIMIT 10;
