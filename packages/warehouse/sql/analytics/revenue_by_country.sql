-- Revenue per country, largest net revenue first.
SELECT
  country,
  CAST(SUM(line_total) AS VARCHAR(40)) AS net_revenue,
  CAST(SUM(sales_amount) AS VARCHAR(40)) AS sales,
  CAST(SUM(cancelled_amount) AS VARCHAR(40)) AS cancellations,
  CAST(SUM(adjustment_amount) AS VARCHAR(40)) AS adjustments,
  CAST(COUNT(DISTINCT sale_invoice_no) AS INTEGER) AS sale_invoices,
  CAST(COUNT(DISTINCT sale_customer_id) AS INTEGER) AS customers
FROM fact_invoice_lines
GROUP BY country
ORDER BY SUM(line_total) DESC, country;
