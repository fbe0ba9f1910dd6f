-- Rebuilds the dimensional layer from invoice_lines in one transaction: readers see the old layer or the new one.
BEGIN;

DELETE FROM dim_date;
INSERT INTO dim_date (date_key, week_start, month_start, month_index)
SELECT DISTINCT
  CAST(invoice_date AS DATE),
  CAST(DATE_TRUNC('week', invoice_date) AS DATE),
  CAST(DATE_TRUNC('month', invoice_date) AS DATE),
  CAST(EXTRACT(YEAR FROM invoice_date) * 12 + EXTRACT(MONTH FROM invoice_date) AS INTEGER)
FROM invoice_lines;

-- A stock code's description is its latest non-null one; codes that are not goods get a kind.
DELETE FROM dim_product;
INSERT INTO dim_product (stock_code, description, code_kind, is_product)
SELECT stock_code, description, code_kind, code_kind = 'product'
FROM (
  SELECT
    stock_code,
    description,
    CASE
      WHEN UPPER(stock_code) IN ('POST', 'DOT', 'C2') THEN 'postage'
      WHEN UPPER(stock_code) = 'M' THEN 'manual'
      WHEN stock_code = 'D' THEN 'discount'
      WHEN stock_code = 'S' THEN 'samples'
      WHEN stock_code IN ('BANK CHARGES', 'AMAZONFEE') THEN 'fee'
      WHEN stock_code = 'CRUK' THEN 'commission'
      WHEN stock_code = 'B' THEN 'bad debt'
      WHEN LEFT(stock_code, 10) = 'gift_0001_' THEN 'gift voucher'
      ELSE 'product'
    END AS code_kind,
    ROW_NUMBER() OVER (
      PARTITION BY stock_code
      ORDER BY CASE WHEN description IS NULL THEN 1 ELSE 0 END, invoice_date DESC, invoice_no DESC, line_no DESC
    ) AS pick
  FROM invoice_lines
) ranked
WHERE pick = 1;

-- A customer's country is that of their latest line; their cohort is the month of their first sale invoice.
DELETE FROM dim_customer;
INSERT INTO dim_customer (customer_id, country, first_sale_at, last_sale_at, cohort_month, cohort_month_index, sale_invoices, net_revenue)
SELECT
  latest.customer_id,
  latest.country,
  sales.first_sale_at,
  sales.last_sale_at,
  CAST(DATE_TRUNC('month', sales.first_sale_at) AS DATE),
  CAST(EXTRACT(YEAR FROM sales.first_sale_at) * 12 + EXTRACT(MONTH FROM sales.first_sale_at) AS INTEGER),
  COALESCE(sales.sale_invoices, 0),
  latest.net_revenue
FROM (
  SELECT customer_id, country, net_revenue
  FROM (
    SELECT
      customer_id,
      country,
      SUM(line_total) OVER (PARTITION BY customer_id) AS net_revenue,
      ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY invoice_date DESC, invoice_no DESC, line_no DESC) AS pick
    FROM invoice_lines
    WHERE customer_id IS NOT NULL
  ) ranked
  WHERE pick = 1
) latest
LEFT JOIN (
  SELECT customer_id, MIN(invoice_date) AS first_sale_at, MAX(invoice_date) AS last_sale_at, COUNT(DISTINCT invoice_no) AS sale_invoices
  FROM invoice_lines
  WHERE invoice_type = 'sale' AND customer_id IS NOT NULL
  GROUP BY customer_id
) sales ON sales.customer_id = latest.customer_id;

-- RFM (Chen, Sain and Guo 2012) over customers with a sale: recency in days from their last sale to the newest
-- invoice day, frequency in sale invoices, monetary in net revenue; quintile scores 1-5 (5 best), ties broken by
-- customer id so both engines agree; segments from the recency and frequency scores.
DELETE FROM customer_rfm;
INSERT INTO customer_rfm (customer_id, recency_days, frequency, monetary, r_score, f_score, m_score, rfm_code, segment)
SELECT
  customer_id,
  recency_days,
  frequency,
  monetary,
  r_score,
  f_score,
  m_score,
  CAST(r_score AS VARCHAR(1)) || CAST(f_score AS VARCHAR(1)) || CAST(m_score AS VARCHAR(1)),
  CASE
    WHEN r_score = 5 AND f_score >= 4 THEN 'Champions'
    WHEN r_score >= 3 AND f_score >= 4 THEN 'Loyal customers'
    WHEN r_score >= 4 AND f_score >= 2 THEN 'Potential loyalists'
    WHEN r_score = 5 THEN 'New customers'
    WHEN r_score = 4 THEN 'Promising'
    WHEN r_score = 3 AND f_score = 3 THEN 'Need attention'
    WHEN r_score = 3 THEN 'About to sleep'
    WHEN f_score = 5 THEN 'Cannot lose them'
    WHEN f_score >= 3 THEN 'At risk'
    ELSE 'Hibernating'
  END
FROM (
  SELECT
    customer_id,
    recency_days,
    frequency,
    monetary,
    NTILE(5) OVER (ORDER BY recency_days DESC, customer_id) AS r_score,
    NTILE(5) OVER (ORDER BY frequency, customer_id) AS f_score,
    NTILE(5) OVER (ORDER BY monetary, customer_id) AS m_score
  FROM (
    SELECT
      c.customer_id,
      {{days_between c.last_sale_day, newest.newest_day}} AS recency_days,
      c.sale_invoices AS frequency,
      c.net_revenue AS monetary
    FROM (SELECT customer_id, CAST(last_sale_at AS DATE) AS last_sale_day, sale_invoices, net_revenue FROM dim_customer WHERE sale_invoices > 0) c
    CROSS JOIN (SELECT CAST(MAX(invoice_date) AS DATE) AS newest_day FROM invoice_lines) newest
  ) measured
) scored;

COMMIT;
