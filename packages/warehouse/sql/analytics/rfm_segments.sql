-- RFM segments and their sizes (customer_rfm is rebuilt with the dimensional layer).
SELECT
  segment,
  CAST(COUNT(*) AS INTEGER) AS customers,
  CAST(ROUND(AVG(CAST(recency_days AS NUMERIC(18,3))), 1) AS VARCHAR(40)) AS avg_recency_days,
  CAST(ROUND(AVG(CAST(frequency AS NUMERIC(18,3))), 1) AS VARCHAR(40)) AS avg_frequency,
  CAST(SUM(monetary) AS VARCHAR(40)) AS monetary
FROM customer_rfm
GROUP BY segment
ORDER BY COUNT(*) DESC, segment;
