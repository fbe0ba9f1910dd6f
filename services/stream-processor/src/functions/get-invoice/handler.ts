import type { Logger } from '@aws-lambda-powertools/logger';
import { mayReadStore, parseInvoiceNoParameter } from '@invoice-pipeline/transactions';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { etagOf, getInvoice, InvoiceInFlux, type InvoiceTable } from '../../invoices/read-invoices';
import { createReadClient } from '../../clients/dynamodb';
import { logger as serviceLogger } from '../../lib/observability';
import { callerOf, FORBIDDEN, GENERIC_500, json, problem, readConfigFromEnv, type ReadConfig } from '../../lib/read-http';

export interface GetInvoiceDependencies {
  table: InvoiceTable;
  config: ReadConfig;
  logger: Pick<Logger, 'error' | 'warn'>;
}

const NOT_FOUND = (invoiceNo: string) => problem(404, `No invoice ${invoiceNo} that this API key may read.`);

/**
 * GET /invoices/{invoiceNo}: the invoice as last accepted, with every line in order and an ETag. A store key reads
 * only its stores' invoices; another store's invoice is a 404, so a key learns nothing of invoices it may not read.
 */
export function createHandler(deps: GetInvoiceDependencies) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const caller = callerOf(event, deps.config.keyBindings);
    if (!caller) return FORBIDDEN();
    const invoiceNo = parseInvoiceNoParameter(event.pathParameters?.invoiceNo);
    if (!invoiceNo.ok) return problem(400, 'The invoice number is not valid.', invoiceNo.problems);
    try {
      const invoice = await getInvoice(deps.table, invoiceNo.value);
      if (!invoice || !mayReadStore(caller, invoice.storeId)) return NOT_FOUND(invoiceNo.value);
      const etag = etagOf(invoice);
      const ifNoneMatch = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'if-none-match')?.[1];
      if (ifNoneMatch === etag) return { statusCode: 304, headers: { etag }, body: '' };
      return json(200, invoice, { etag });
    } catch (error) {
      if (error instanceof InvoiceInFlux) {
        deps.logger.warn('invoice being rewritten, replied 503', { invoiceNo: invoiceNo.value });
        return json(503, { message: 'The invoice is being updated; retry after the number of seconds in Retry-After.' }, { 'Retry-After': '1' });
      }
      deps.logger.error('get invoice failed', { error: error as Error });
      return GENERIC_500();
    }
  };
}

/** Created once per container: configuration is read and checked here. */
export const main = (() => {
  const config = readConfigFromEnv('getInvoice');
  return createHandler({ table: { dynamodb: createReadClient(), tableName: config.tableName }, config, logger: serviceLogger });
})();
