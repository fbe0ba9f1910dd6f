import { mergeStagedStatements } from './merge';
import { MIGRATIONS_TABLE_DDL, WAREHOUSE_MIGRATIONS } from './migrations';

/** The full Redshift DDL: migrations, then the merge of staged rows (docs/warehouse/redshift.sql, for review by hand). */
export function redshiftDdl(): string {
  const parts = [MIGRATIONS_TABLE_DDL, ...WAREHOUSE_MIGRATIONS.flatMap((m) => [`-- migration ${m.version}: ${m.name}`, ...m.statements('redshift')])];
  return `-- Generated from packages/warehouse/src by \`pnpm openapi\`. Do not edit by hand.\n${parts.join('\n\n')}\n\n-- merge of staged rows (run in one transaction, e.g. by a scheduled query)\nBEGIN;\n${mergeStagedStatements('redshift').join('\n')}\nCOMMIT;\n`;
}
