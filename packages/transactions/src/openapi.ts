import { z } from 'zod';
import { stringify } from 'yaml';
import { AcceptedReply, ErrorReply } from './api';
import { EXAMPLE_INVOICE } from './files/example-invoice';
import { CustomerInvoicesReply, InvoiceReply, READ_LIMITS } from './read-api';
import { LIMITS, PostInvoicesBody } from './schemas';

/** JSON Schema (2020-12) of the POST /invoices body, generated from the zod schemas. */
export function invoiceJsonSchema(): Record<string, unknown> {
  return { $id: 'https://invoice-pipeline.dev/schemas/post-invoices-body.json', ...z.toJSONSchema(PostInvoicesBody, { target: 'draft-2020-12' }) };
}

function componentSchemas(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  for (const schema of [PostInvoicesBody, AcceptedReply, ErrorReply, InvoiceReply, CustomerInvoicesReply]) {
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
function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Invoice API',
      version: '1.0.0',
      description: [
        'Point-of-sale systems post invoices here. Each invoice is written to the stream as one record. A line is',
        'identified by (invoiceNo, lineNo), lineNo being its 1-based position in `lines`: DynamoDB and the warehouse',
        'hold each line exactly once, so posting the same invoice again is safe and never changes a total. The raw',
        'archive keeps every record as delivered, at least once (a resent invoice is archived again).',
        '',
        'Invoice numbers are unique across the retailer, not per store. Each API key is bound to its store(s): a key',
        'sends only invoices whose `storeId` is its own, and an invoice number stored for one store is never replaced',
        'by another store.',
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
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/PostInvoicesBody' }, example: EXAMPLE_INVOICE } } },
          responses: {
            '202': { description: 'Accepted: every invoice is in the stream.', content: { 'application/json': { schema: { $ref: '#/components/schemas/AcceptedReply' } } } },
            '400': error(
              'The body is not valid JSON, or not a valid invoice or batch (including values no store could keep: money beyond NUMERIC(18,3), a line total beyond NUMERIC(20,3), NUL or lone surrogates in text, text over its byte size, a negative price on a sale or cancellation); `problems` lists every field path at fault (unknown field names are cut short). Nothing was written.',
            ),
            '403': error('No API key, a key not valid for this stage (`{"message":"Forbidden"}`), a key bound to no store, or an invoice of a store this key does not send for (`problems` names each `storeId`). Nothing was written.'),
            '413': error('The body is too large (a record over 1 MiB, or a request over 5 MiB).'),
            '415': error('The Content-Type is not JSON (application/json, or application/<x>+json).'),
            '429': error('The usage plan of this store is exceeded; retry later.'),
            '503': {
              ...error('The stream is throttled or slower than the time the request has; retry after the number of seconds in Retry-After. Part of the request may be written; resending it whole is safe.'),
              headers: { 'Retry-After': { schema: { type: 'integer' } } },
            },
          },
        },
      },
      '/invoices/{invoiceNo}': {
        get: {
          operationId: 'getInvoice',
          summary: 'An invoice as last accepted, with every line in order',
          description: 'A store key reads only its own stores\' invoices (another store\'s invoice is a 404); a back-office key reads any.',
          parameters: [{ $ref: '#/components/parameters/invoiceNo' }, { name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } }],
          responses: {
            '200': {
              description: 'The invoice; the ETag changes exactly when the invoice does.',
              headers: { ETag: { schema: { type: 'string' } } },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/InvoiceReply' } } },
            },
            '304': { description: 'Unchanged since the ETag given in If-None-Match.' },
            '400': error('The invoice number is not valid (`problems`: `path.invoiceNo`).'),
            '403': error('No API key, or a key bound to no store.'),
            '404': error('No such invoice that this key may read.'),
            '503': { ...error('The invoice is being rewritten; retry after Retry-After seconds.'), headers: { 'Retry-After': { schema: { type: 'integer' } } } },
          },
        },
      },
      '/customers/{customerId}/invoices': {
        get: {
          operationId: 'listCustomerInvoices',
          summary: "A customer's invoices, newest first, a page at a time (back-office keys only)",
          parameters: [
            { $ref: '#/components/parameters/customerId' },
            { name: 'from', in: 'query', schema: { type: 'string' }, description: 'Earliest invoice date, inclusive: "YYYY-MM-DD" or "YYYY-MM-DDTHH:mm:ss".' },
            { name: 'to', in: 'query', schema: { type: 'string' }, description: 'Latest invoice date, inclusive (a date means the whole day).' },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: READ_LIMITS.maxPageSize, default: READ_LIMITS.defaultPageSize } },
            { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'Opaque: the nextCursor of the previous page.' },
            { name: 'lines', in: 'query', schema: { type: 'boolean', default: false }, description: 'true: every invoice with its lines.' },
          ],
          responses: {
            '200': { description: 'One page.', content: { 'application/json': { schema: { $ref: '#/components/schemas/CustomerInvoicesReply' } } } },
            '400': error('A parameter is not valid; `problems` names each (`path.customerId`, `query.limit`, `query.cursor`, ...).'),
            '403': error('No API key, or not a back-office key.'),
          },
        },
      },
    },
    components: {
      parameters: {
        invoiceNo: { name: 'invoiceNo', in: 'path', required: true, schema: { type: 'string', pattern: '^[CA]?\\d{1,20}$' } },
        customerId: { name: 'customerId', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
      },
      securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } },
      schemas: componentSchemas(),
    },
  };
}

export function openApiYaml(): string {
  return `# Generated from packages/transactions by \`pnpm openapi\`. Do not edit by hand.\n${stringify(openApiDocument(), { lineWidth: 0 })}`;
}
