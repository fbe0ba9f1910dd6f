import { WAREHOUSE_COLUMNS, WAREHOUSE_KEY, WAREHOUSE_TABLES, type WarehouseDialect } from './contract';

/**
 * The one MERGE: statements that move staged rows into invoice_lines, to run in one transaction, used by every path
 * that loads staging (Firehose's COPY now, the batch load next). The lock keeps a concurrent COPY from landing between
 * the MERGE and the DELETE (it would be deleted unmerged). Duplicates within staging (a redelivered batch) collapse to
 * the latest load. MERGE is valid on Redshift and on Postgres 15+.
 */
export function mergeStagedStatements(dialect: WarehouseDialect): string[] {
  const names = WAREHOUSE_COLUMNS.map((c) => c.name);
  const now = dialect === 'redshift' ? 'GETDATE()' : 'now()';
  const lock = dialect === 'redshift' ? `LOCK ${WAREHOUSE_TABLES.staging};` : `LOCK TABLE ${WAREHOUSE_TABLES.staging} IN EXCLUSIVE MODE;`;
  const on = WAREHOUSE_KEY.map((k) => `${WAREHOUSE_TABLES.lines}.${k} = src.${k}`).join(' AND ');
  return [
    lock,
    [
      `MERGE INTO ${WAREHOUSE_TABLES.lines}`,
      `USING (`,
      `  SELECT ${names.join(', ')} FROM (`,
      `    SELECT *, ROW_NUMBER() OVER (PARTITION BY ${WAREHOUSE_KEY.join(', ')} ORDER BY loaded_at DESC) AS copy_rank`,
      `    FROM ${WAREHOUSE_TABLES.staging}`,
      `  ) ranked WHERE copy_rank = 1`,
      `) AS src`,
      `ON ${on}`,
      `WHEN MATCHED THEN UPDATE SET ${names.filter((n) => !(WAREHOUSE_KEY as readonly string[]).includes(n)).map((n) => `${n} = src.${n}`).join(', ')}, merged_at = ${now}`,
      `WHEN NOT MATCHED THEN INSERT (${names.join(', ')}, merged_at) VALUES (${names.map((n) => `src.${n}`).join(', ')}, ${now});`,
    ].join('\n'),
    `DELETE FROM ${WAREHOUSE_TABLES.staging};`,
  ];
}
