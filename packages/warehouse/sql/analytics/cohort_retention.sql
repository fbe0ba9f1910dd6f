-- Monthly cohort retention: cohort = month of a customer's first sale invoice; retained in month k = a sale invoice
-- k months later (k = 0 is the cohort month, always 100 %). Retention rounded to 4 decimals.
SELECT
  TO_CHAR(c.cohort_month, 'YYYY-MM') AS cohort,
  d.month_index - c.cohort_month_index AS month_offset,
  cohorts.cohort_customers,
  CAST(COUNT(DISTINCT f.sale_customer_id) AS INTEGER) AS retained_customers,
  CAST(ROUND(CAST(COUNT(DISTINCT f.sale_customer_id) AS NUMERIC(18,6)) / cohorts.cohort_customers, 4) AS VARCHAR(40)) AS retention
FROM fact_invoice_lines f
JOIN dim_date d ON d.date_key = f.invoice_day
JOIN dim_customer c ON c.customer_id = f.sale_customer_id
JOIN (
  SELECT cohort_month, CAST(COUNT(*) AS INTEGER) AS cohort_customers
  FROM dim_customer
  WHERE cohort_month IS NOT NULL
  GROUP BY cohort_month
) cohorts ON cohorts.cohort_month = c.cohort_month
GROUP BY c.cohort_month, c.cohort_month_index, d.month_index, cohorts.cohort_customers
ORDER BY c.cohort_month, month_offset;
