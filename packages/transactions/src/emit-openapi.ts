import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { invoiceJsonSchema, openApiYaml } from './openapi';
import { redshiftDdl } from './warehouse';

/** Writes the generated contracts in docs/: the OpenAPI document, the body's JSON Schema and the Redshift DDL. */
export const DOCS = {
  openApi: resolve(__dirname, '../../../docs/openapi.yaml'),
  jsonSchema: resolve(__dirname, '../../../docs/post-invoices-body.schema.json'),
  redshiftDdl: resolve(__dirname, '../../../docs/warehouse/redshift.sql'),
};

if (require.main === module) {
  writeFileSync(DOCS.openApi, openApiYaml());
  writeFileSync(DOCS.jsonSchema, `${JSON.stringify(invoiceJsonSchema(), null, 2)}\n`);
  writeFileSync(DOCS.redshiftDdl, redshiftDdl());
  console.log(`wrote ${Object.values(DOCS).join(', ')}`);
}
