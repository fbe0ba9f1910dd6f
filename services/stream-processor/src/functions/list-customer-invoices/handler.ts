import type { Logger } from '@aws-lambda-powertools/logger';
import { parseCustomerInvoicesRequest, type CustomerInvoicesReply } from '@invoice-pipeline/transactions';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { BadCursor, InvoiceInFlux, listCustomerInvoices, type InvoiceTable } from '../../invoices/read-invoices';
import { createReadClient } from '../../clients/dynamodb';
import { logger as serviceLogger } from '../../lib/observability';
import { callerOf, FORBIDDEN, GENERIC_500, json, problem, readConfigFromEnv, type ReadConfig } from '../../lib/read-http';

export interface ListCustomerInvoicesDependencies {
  table: InvoiceTable;
  config: ReadConfig;
  logger: Pick<Logger, 'error' | 'warn'>;
}

/**
 * GET /customers/{customerId}/invoices: a customer's purchase history, newest first, a page at a time. Customer data
 * across stores: only a back-office key may read it.
 */
export function createHandler(deps: ListCustomerInvoicesDependencies) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const caller = callerOf(event, deps.config.keyBindings);
    if (!caller || caller.role !== 'backoffice') return FORBIDDEN();
    const request = parseCustomerInvoicesRequest(event.pathParameters?.customerId, event.queryStringParameters as Record<string, string> | null);
    if (!request.ok) return problem(400, 'The request parameters are not valid.', request.problems);
    try {
      const page = await listCustomerInvoices(deps.table, request.value);
      return json(200, page satisfies CustomerInvoicesReply);
    } catch (error) {
      if (error instanceof BadCursor) return problem(400, 'The request parameters are not valid.', [{ path: 'query.cursor', message: error.message }]);
      if (error instanceof InvoiceInFlux) return json(503, { message: 'An invoice is being updated; retry after the number of seconds in Retry-After.' }, { 'Retry-After': '1' });
      deps.logger.error('list customer invoices failed', { error: error as Error });
      return GENERIC_500();
    }
  };
}

/** Created once per container: configuration is read and checked here. */
export const main = (() => {
  const config = readConfigFromEnv('listCustomerInvoices');
  return createHandler({ table: { dynamodb: createReadClient(), tableName: config.tableName }, config, logger: serviceLogger });
})();
