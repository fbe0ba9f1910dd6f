-- Active customers per month (a sale invoice in the month), split into new (their first sale month) and returning.
SELECT
  TO_CHAR(d.month_start, 'YYYY-MM') AS month,
  CAST(COUNT(DISTINCT f.sale_customer_id) AS INTEGER) AS active_customers,
  CAST(COUNT(DISTINCT CASE WHEN c.cohort_month = d.month_start THEN f.sale_customer_id END) AS INTEGER) AS new_customers,
  CAST(COUNT(DISTINCT CASE WHEN c.cohort_month < d.month_start THEN f.sale_customer_id END) AS INTEGER) AS returning_customers
FROM fact_invoice_lines f
JOIN dim_date d ON d.date_key = f.invoice_day
LEFT JOIN dim_customer c ON c.customer_id = f.sale_customer_id
GROUP BY d.month_start
ORDER BY d.month_start;
