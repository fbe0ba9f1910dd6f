-- Every customer with a sale, with RFM measures, scores and segment.
SELECT
  customer_id,
  recency_days,
  frequency,
  CAST(monetary AS VARCHAR(40)) AS monetary,
  r_score,
  f_score,
  m_score,
  rfm_code,
  segment
FROM customer_rfm
ORDER BY customer_id;
