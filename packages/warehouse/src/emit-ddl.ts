import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { redshiftDdl } from './ddl';

/** Where the generated Redshift DDL is published, for a data engineer to review or apply by hand. */
export const REDSHIFT_DDL_FILE = resolve(__dirname, '../../../docs/warehouse/redshift.sql');

// `pnpm openapi` (root) runs this after the transactions package's contracts.
if (require.main === module) {
  writeFileSync(REDSHIFT_DDL_FILE, redshiftDdl());
  console.log(`wrote ${REDSHIFT_DDL_FILE}`);
}
