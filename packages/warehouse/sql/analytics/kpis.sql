-- Headline figures. Net revenue counts sales, cancellations and adjustments; money is exact (text of a NUMERIC).
SELECT
  CAST(COUNT(*) AS INTEGER) AS lines,
  CAST(COUNT(DISTINCT invoice_no) AS INTEGER) AS invoices,
  CAST(COUNT(DISTINCT sale_invoice_no) AS INTEGER) AS sale_invoices,
  CAST(COUNT(DISTINCT cancellation_invoice_no) AS INTEGER) AS cancellation_invoices,
  CAST(COUNT(DISTINCT CASE WHEN invoice_type = 'adjustment' THEN invoice_no END) AS INTEGER) AS adjustment_invoices,
  CAST(COUNT(DISTINCT sale_customer_id) AS INTEGER) AS customers,
  CAST(COUNT(DISTINCT country) AS INTEGER) AS countries,
  CAST(COALESCE(SUM(line_total), 0) AS VARCHAR(40)) AS net_revenue,
  CAST(COALESCE(SUM(sales_amount), 0) AS VARCHAR(40)) AS sales,
  CAST(COALESCE(SUM(cancelled_amount), 0) AS VARCHAR(40)) AS cancellations,
  CAST(COALESCE(SUM(adjustment_amount), 0) AS VARCHAR(40)) AS adjustments,
  TO_CHAR(MIN(invoice_date), 'YYYY-MM-DD HH24:MI:SS') AS first_invoice_at,
  TO_CHAR(MAX(invoice_date), 'YYYY-MM-DD HH24:MI:SS') AS last_invoice_at
FROM fact_invoice_lines;
