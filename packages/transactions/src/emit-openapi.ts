import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { invoiceJsonSchema, openApiYaml } from './openapi';

/** Writes docs/openapi.yaml and docs/post-invoices-body.schema.json from the zod schemas. */
export const DOCS = {
  openApi: resolve(__dirname, '../../../docs/openapi.yaml'),
  jsonSchema: resolve(__dirname, '../../../docs/post-invoices-body.schema.json'),
};

if (require.main === module) {
  writeFileSync(DOCS.openApi, openApiYaml());
  writeFileSync(DOCS.jsonSchema, `${JSON.stringify(invoiceJsonSchema(), null, 2)}\n`);
  console.log(`wrote ${DOCS.openApi} and ${DOCS.jsonSchema}`);
}
