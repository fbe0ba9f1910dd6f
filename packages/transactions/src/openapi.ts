import { z } from 'zod';
import { stringify } from 'yaml';
import { AcceptedReply, ErrorReply } from './api';
import { LIMITS, PostInvoicesBody } from './schemas';

/** JSON Schema (2020-12) of the POST /invoices body, generated from the zod schemas. */
export function invoiceJsonSchema(): Record<string, unknown> {
  return { $id: 'https://invoice-pipeline.dev/schemas/post-invoices-body.json', ...z.toJSONSchema(PostInvoicesBody, { target: 'draft-2020-12' }) };
}

function componentSchemas(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  for (const schema of [PostInvoicesBody, AcceptedReply, ErrorReply]) {
    const { $defs = {} } = z.toJSONSchema(schema, { target: 'draft-2020-12' }) as { $defs?: Record<string, unknown> };
    Object.assign(schemas, $defs);
  }
  return JSON.parse(JSON.stringify(schemas).replaceAll('"#/$defs/', '"#/components/schemas/')) as Record<string, unknown>;
}

const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorReply' } } },
});

/** The OpenAPI 3.1 document for POS integrators (docs/openapi.yaml). */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Invoice ingest API',
      version: '1.0.0',
      description: [
        'Point-of-sale systems post invoices here. Each invoice is written to the stream as one record and lands',
        'exactly once in every store: a line is identified by (invoiceNo, lineNo), lineNo being its 1-based position',
        'in `lines`, so posting the same invoice again is safe and never changes a total.',
        '',
        'Money is an exact decimal string ("2.55"), never a JSON number. Timestamps are store-local "YYYY-MM-DDTHH:mm:ss".',
      ].join('\n'),
    },
    servers: [{ url: 'https://{apiId}.execute-api.{region}.amazonaws.com/{stage}', variables: { apiId: { default: 'example' }, region: { default: 'eu-west-2' }, stage: { default: 'prod' } } }],
    security: [{ apiKey: [] }],
    paths: {
      '/invoices': {
        post: {
          operationId: 'postInvoices',
          summary: `Submit one invoice, or a batch of up to ${LIMITS.maxInvoicesPerBatch}`,
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/PostInvoicesBody' } } } },
          responses: {
            '202': { description: 'Accepted: every invoice is in the stream.', content: { 'application/json': { schema: { $ref: '#/components/schemas/AcceptedReply' } } } },
            '400': error('The body is not a valid invoice or batch; `problems` lists every field path at fault. Nothing was written.'),
            '401': error('No API key.'),
            '403': error('The API key is not valid for this stage.'),
            '413': error('The body is too large (a record over 1 MiB, or a request over 5 MiB).'),
            '415': error('The body is not application/json.'),
            '429': error('The usage plan of this store is exceeded; retry later.'),
            '503': {
              ...error('The stream is throttled; retry after the number of seconds in Retry-After. Nothing of this request may be assumed written; resending it is safe.'),
              headers: { 'Retry-After': { schema: { type: 'integer' } } },
            },
          },
        },
      },
    },
    components: {
      securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } },
      schemas: componentSchemas(),
    },
  };
}

export function openApiYaml(): string {
  return `# Generated from packages/transactions by \`pnpm openapi\`. Do not edit by hand.\n${stringify(openApiDocument(), { lineWidth: 0 })}`;
}
