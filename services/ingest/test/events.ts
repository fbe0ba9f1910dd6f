import type { APIGatewayProxyEvent, Context } from 'aws-lambda';

/** An API Gateway (REST, proxy integration) event for POST /invoices. */
export function postInvoicesEvent(body: string | null, headers: Record<string, string> = { 'Content-Type': 'application/json' }): APIGatewayProxyEvent {
  return {
    resource: '/invoices',
    path: '/invoices',
    httpMethod: 'POST',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'test',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: 'POST',
      identity: { apiKey: 'test-key', apiKeyId: 'test-key-id', sourceIp: '127.0.0.1', userAgent: 'jest' } as APIGatewayProxyEvent['requestContext']['identity'],
      path: '/test/invoices',
      stage: 'test',
      requestId: 'request-1',
      requestTimeEpoch: 0,
      resourceId: 'resource',
      resourcePath: '/invoices',
    },
  };
}

export function lambdaContext(remainingMs = 10_000): Context {
  const started = Date.now();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'invoice-ingest-test-postInvoices',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-2:123456789012:function:invoice-ingest-test-postInvoices',
    memoryLimitInMB: '256',
    awsRequestId: 'request-1',
    logGroupName: '/aws/lambda/invoice-ingest-test-postInvoices',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(0, remainingMs - (Date.now() - started)),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
