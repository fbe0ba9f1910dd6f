import type { APIGatewayProxyResult } from 'aws-lambda';

/** Liveness only: says the function runs, touches no dependency. */
export const main = async (): Promise<APIGatewayProxyResult> => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ status: 'ok', service: 'stream-processor' }),
});
