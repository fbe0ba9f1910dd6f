-- Revenue per {{period}} (a column of dim_date: date_key, week_start or month_start; weeks start on Monday).
SELECT
  TO_CHAR(d.{{period}}, 'YYYY-MM-DD') AS period_start,
  CAST(SUM(f.line_total) AS VARCHAR(40)) AS net_revenue,
  CAST(SUM(f.sales_amount) AS VARCHAR(40)) AS sales,
  CAST(SUM(f.cancelled_amount) AS VARCHAR(40)) AS cancellations,
  CAST(SUM(f.adjustment_amount) AS VARCHAR(40)) AS adjustments,
  CAST(COUNT(DISTINCT f.sale_invoice_no) AS INTEGER) AS sale_invoices,
  CAST(COUNT(*) AS INTEGER) AS lines
FROM fact_invoice_lines f
JOIN dim_date d ON d.date_key = f.invoice_day
GROUP BY d.{{period}}
ORDER BY d.{{period}};
