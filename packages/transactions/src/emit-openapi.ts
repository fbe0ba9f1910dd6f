import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { invoiceJsonSchema, openApiYaml } from './openapi';

/** Writes the generated contracts in docs/: the OpenAPI document and the body's JSON Schema (the Redshift DDL: packages/warehouse). */
export const DOCS = {
  openApi: resolve(__dirname, '../../../docs/openapi.yaml'),
  jsonSchema: resolve(__dirname, '../../../docs/post-invoices-body.schema.json'),
};

if (require.main === module) {
  writeFileSync(DOCS.openApi, openApiYaml());
  writeFileSync(DOCS.jsonSchema, `${JSON.stringify(invoiceJsonSchema(), null, 2)}\n`);
  console.log(`wrote ${Object.values(DOCS).join(', ')}`);
}
