import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parseInvoicesBody, principalOf, storesNotSendable, type AcceptedReply, type FieldProblem, type Invoice, type Principal } from '@invoice-pipeline/transactions';
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { createKinesisClient } from '../../clients/kinesis';
import { HttpError, isHttpStatusError, jsonReply, limitBodySize, mapErrors, requireJsonMediaType } from '../../lib/http';
import { logger as serviceLogger, metrics as serviceMetrics } from '../../lib/observability';
import { MAX_REQUEST_BYTES, readConfig, type PostInvoicesConfig } from './config';
import { KINESIS_LIMITS, putInvoices, RecordTooLargeError, StreamUnavailableError, type KinesisSender } from './put-invoices';

export interface PostInvoicesDependencies {
  kinesis: KinesisSender;
  config: PostInvoicesConfig;
  logger: Logger;
  metrics: Metrics;
  /** Test seams for the retry waits. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** A 400 lists every problem up to this many (a 5 MB body could hold hundreds of thousands). */
const MAX_PROBLEMS_LISTED = 1_000;
/** Retries stop this long before the invocation times out, so the reply is a 503 rather than a timeout. */
const DEADLINE_MARGIN_MS = 1_500;
const GENERIC_500 = JSON.stringify({ message: 'Internal error. Nothing about it is shown here; it has been logged.' });

function isBatch(body: unknown): body is { invoices: unknown } {
  return typeof body === 'object' && body !== null && 'invoices' in body;
}

function invoiceCount(body: unknown): number {
  return isBatch(body) && Array.isArray(body.invoices) ? body.invoices.length : 1;
}

function invalidBody(problems: FieldProblem[]): HttpError {
  const listed = problems.slice(0, MAX_PROBLEMS_LISTED);
  const message =
    listed.length === problems.length
      ? `The body is not a valid invoice or batch of invoices (${problems.length} problem(s)); nothing was written.`
      : `The body is not a valid invoice or batch of invoices (${problems.length} problems, the first ${listed.length} listed); nothing was written.`;
  return new HttpError(400, { message, problems: listed });
}

function principalOrForbidden(event: APIGatewayProxyEvent, config: PostInvoicesConfig): Principal {
  const principal = principalOf(config.keyBindings, { apiKeyId: event.requestContext?.identity?.apiKeyId, apiKeyHeader: event.headers?.['x-api-key'] });
  if (!principal) throw new HttpError(403, { message: 'This API key is not bound to a store; nothing was written.' });
  return principal;
}

/** A key sends only its own store's invoices: another store's invoice in the body refuses the request (403). */
function checkStores(principal: Principal, invoices: Invoice[], batch: boolean): void {
  const refused = storesNotSendable(principal, invoices.map((invoice) => invoice.storeId));
  if (!refused.length) return;
  const problems = invoices.flatMap((invoice, index) =>
    refused.includes(invoice.storeId) ? [{ path: batch ? `invoices[${index}].storeId` : 'storeId', message: 'is not a store this API key may send for' }] : [],
  );
  const message =
    principal.role === 'store'
      ? `This API key sends for store(s) ${principal.stores.join(', ')} only; ${problems.length} invoice(s) name another store. Nothing was written.`
      : 'This API key reads only; it sends no invoices. Nothing was written.';
  throw new HttpError(403, { message, problems: problems.slice(0, MAX_PROBLEMS_LISTED) });
}

/** What the caller is told for an error: a 4xx says what is wrong, a 5xx says nothing internal. */
function toHttpError(error: unknown, body: unknown, config: PostInvoicesConfig): HttpError | undefined {
  if (error instanceof HttpError) return error;
  if (error instanceof RecordTooLargeError) {
    return new HttpError(413, {
      message: `An invoice is larger than a stream record may be (${KINESIS_LIMITS.maxRecordBytes} bytes); nothing was written.`,
      problems: error.oversized.map(({ index, bytes }) => ({
        path: isBatch(body) ? `invoices[${index}]` : '(body)',
        message: `is ${bytes} bytes as a stream record; split it into smaller invoices`,
      })),
    });
  }
  if (error instanceof StreamUnavailableError) {
    return new HttpError(
      503,
      { message: 'The invoice stream is busy. Retry after the number of seconds in Retry-After; resending the same invoices is safe.' },
      { 'Retry-After': String(config.retryAfterSeconds) },
      { expose: true },
    );
  }
  // @middy/http-json-body-parser (its media type check is off: requireJsonMediaType does it) fails only on a body
  // that is not JSON, which is a bad request, not a wrong media type.
  if (isHttpStatusError(error) && error.statusCode === 415) {
    return new HttpError(400, { message: 'The body is not valid JSON; nothing was written.', problems: [{ path: '(body)', message: 'is not valid JSON' }] });
  }
  if (isHttpStatusError(error) && error.statusCode < 500) return new HttpError(error.statusCode, { message: error.message });
  return undefined;
}

/**
 * POST /invoices. Thin: middy parses and guards the request, parseInvoicesBody validates (the schema lives in
 * @invoice-pipeline/transactions only), putInvoices writes, and errors are mapped to replies in one place.
 */
export function createHandler(deps: PostInvoicesDependencies) {
  const { config, logger, metrics } = deps;

  const postInvoices = async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    const principal = principalOrForbidden(event, config);
    const parsed = parseInvoicesBody(event.body);
    if (!parsed.ok) throw invalidBody(parsed.problems);
    checkStores(principal, parsed.value, isBatch(event.body));
    const { accepted, retriedRecords, calls } = await putInvoices(parsed.value, {
      kinesis: deps.kinesis,
      streamName: config.streamName,
      retry: config.retry,
      deadline: Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS,
      sleep: deps.sleep,
      random: deps.random,
    });
    const lines = accepted.reduce((sum, invoice) => sum + invoice.lines, 0);
    logger.info('invoices accepted', { invoices: accepted.length, lines, invoiceNos: accepted.map((invoice) => invoice.invoiceNo), retriedRecords, calls });
    metrics.addMetric('InvoicesAccepted', MetricUnit.Count, accepted.length);
    metrics.addMetric('LinesAccepted', MetricUnit.Count, lines);
    if (retriedRecords) metrics.addMetric('RecordsRetried', MetricUnit.Count, retriedRecords);
    return jsonReply(202, { accepted } satisfies AcceptedReply);
  };

  const report = (error: unknown, mapped: HttpError | undefined, body: unknown): void => {
    if (mapped && mapped.statusCode < 500) {
      // Problems name fields and say what is wrong with them; they never echo the values sent.
      logger.info('request rejected', { statusCode: mapped.statusCode, reason: mapped.reply.message, problems: mapped.reply.problems?.slice(0, 20) });
      metrics.addMetric('RequestsRejected', MetricUnit.Count, 1);
      metrics.addMetric('InvoicesRejected', MetricUnit.Count, invoiceCount(body));
    } else if (mapped) {
      logger.warn('stream unavailable or out of time, replied 503', { error: error as Error });
      metrics.addMetric('StreamUnavailable', MetricUnit.Count, 1);
    } else {
      logger.error('request failed', { error: error as Error });
      metrics.addMetric('RequestsFailed', MetricUnit.Count, 1);
    }
  };

  // onError middlewares run last-registered first: mapErrors, then http-error-handler, then metrics and logger.
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(httpHeaderNormalizer())
    .use(limitBodySize(MAX_REQUEST_BYTES))
    .use(requireJsonMediaType())
    // disableContentTypeCheck is in the middleware's code but missing from its type declarations (6.4.5).
    .use(httpJsonBodyParser({ disableContentTypeCheck: true } as Parameters<typeof httpJsonBodyParser>[0]))
    .use(httpErrorHandler({ logger: false, fallbackMessage: GENERIC_500 }))
    .use(
      mapErrors((error, request) => {
        const mapped = toHttpError(error, request.event.body, config);
        report(error, mapped, request.event.body);
        return mapped;
      }),
    )
    .handler(postInvoices);
}

/** Created once per container: configuration is read and checked here, so a bad one fails at cold start. */
export const main = createHandler({ kinesis: createKinesisClient(), config: readConfig(), logger: serviceLogger, metrics: serviceMetrics });
