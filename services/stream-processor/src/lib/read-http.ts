import { parseKeyBindings, principalOf, type ErrorReply, type FieldProblem, type KeyBindings, type Principal } from '@invoice-pipeline/transactions';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { getEnvVariable } from './env';

/** What the read functions take from their environment, read once per container. */
export interface ReadConfig {
  tableName: string;
  keyBindings: KeyBindings;
}

export function readConfigFromEnv(): ReadConfig {
  const bindings = getEnvVariable('STORE_API_KEYS');
  try {
    return { tableName: getEnvVariable('TABLE_NAME'), keyBindings: parseKeyBindings(bindings) };
  } catch (error) {
    throw new Error(`STORE_API_KEYS ${(error as Error).message}: set it in serverless.yml`);
  }
}

/** Reads numbers as their exact text (NumberValue), never as a float. */
export function createReadClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({}), { unmarshallOptions: { wrapNumbers: true } });
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export const problem = (statusCode: number, message: string, problems?: FieldProblem[]) =>
  json(statusCode, { message, ...(problems ? { problems } : {}) } satisfies ErrorReply);

export const FORBIDDEN = () => problem(403, 'This API key may not read this.');
export const GENERIC_500 = () => problem(500, 'Internal error. Nothing about it is shown here; it has been logged.');

/** The caller of a request (its API key's binding), or undefined: the caller gets a 403. */
export function callerOf(event: APIGatewayProxyEvent, keyBindings: KeyBindings): Principal | undefined {
  const header = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'x-api-key')?.[1];
  return principalOf(keyBindings, { apiKeyId: event.requestContext?.identity?.apiKeyId, apiKeyHeader: header });
}
