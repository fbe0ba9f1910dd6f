-- Pipeline health as the warehouse sees it: lines merged, rows still staged (and since when), the newest line, bad
-- rows and rejected dump rows, and the warehouse's clock so freshness and lag are measured on one clock.
SELECT
  merged.lines,
  staged.staged_rows,
  TO_CHAR(staged.oldest_loaded_at, 'YYYY-MM-DD HH24:MI:SS') AS oldest_staged_at,
  TO_CHAR(merged.newest_merged_at, 'YYYY-MM-DD HH24:MI:SS') AS newest_merged_at,
  TO_CHAR(merged.newest_invoice_at, 'YYYY-MM-DD HH24:MI:SS') AS newest_invoice_at,
  rejects.bad_rows,
  rejects.rejected_dump_rows,
  TO_CHAR({{now}}, 'YYYY-MM-DD HH24:MI:SS') AS measured_at
FROM (
  SELECT CAST(COUNT(*) AS INTEGER) AS lines, MAX(merged_at) AS newest_merged_at, MAX(invoice_date) AS newest_invoice_at
  FROM invoice_lines
) merged
CROSS JOIN (
  SELECT CAST(COUNT(*) AS INTEGER) AS staged_rows, MIN(loaded_at) AS oldest_loaded_at
  FROM invoice_lines_staging
) staged
CROSS JOIN (
  SELECT
    CAST(COALESCE(SUM(CASE WHEN source = 'bad-row' THEN row_count ELSE 0 END), 0) AS INTEGER) AS bad_rows,
    CAST(COALESCE(SUM(CASE WHEN source = 'dump-row' THEN row_count ELSE 0 END), 0) AS INTEGER) AS rejected_dump_rows
  FROM pipeline_rejects
) rejects;
