import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CSV_HEADER } from '@invoice-pipeline/transactions/files';
import { batchFileReplaceStatements, BATCH_SOURCE_COLUMNS, BATCH_STAGING_COLUMNS, BATCH_TABLES, mergeBatchFileStatements } from '@invoice-pipeline/warehouse';

/** What the PySpark job takes from the one home of the warehouse SQL, generated so Python never restates it. */
export const GLUE_WAREHOUSE_SQL_PATH = resolve(__dirname, '../../../glue/warehouse_sql.json');

/** Placeholders the job fills in (the file name as an SQL string, counts as integers). */
const FILE = '{source_file}';
const LINES = -1_000_001;
const REJECTED = -1_000_002;

export function glueWarehouseSql(): Record<string, unknown> {
  const fill = (statements: string[]) => statements.map((s) => s.replaceAll(String(LINES), '{lines}').replaceAll(String(REJECTED), '{rejected}'));
  return {
    comment: 'Generated from packages/warehouse/src/batch.ts by `pnpm --filter @invoice-pipeline/local-glue emit`. Do not edit by hand.',
    header: CSV_HEADER,
    staging_table: BATCH_TABLES.staging,
    staging_columns: [...BATCH_STAGING_COLUMNS, ...BATCH_SOURCE_COLUMNS],
    preactions: batchFileReplaceStatements(FILE),
    postactions: fill(mergeBatchFileStatements('redshift', FILE, { lines: LINES, rejected: REJECTED })),
  };
}

export const glueWarehouseSqlText = () => `${JSON.stringify(glueWarehouseSql(), null, 2)}\n`;

if (require.main === module) {
  writeFileSync(GLUE_WAREHOUSE_SQL_PATH, glueWarehouseSqlText());
  console.log(`wrote ${GLUE_WAREHOUSE_SQL_PATH}`);
}
