import { parseKeyBindings, principalOf, type ErrorReply, type FieldProblem, type KeyBindings, type Principal } from '@invoice-pipeline/transactions';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ConfigurationError, requiredEnv } from '@invoice-pipeline/function-config';

/** What the read functions take from their environment, read once per container. */
export interface ReadConfig {
  tableName: string;
  keyBindings: KeyBindings;
}

export function readConfigFromEnv(functionName: string, env: NodeJS.ProcessEnv = process.env): ReadConfig {
  const bindings = requiredEnv(env, functionName, 'STORE_API_KEYS', 'built by config/api-keys.js');
  const tableName = requiredEnv(env, functionName, 'TABLE_NAME');
  try {
    return { tableName, keyBindings: parseKeyBindings(bindings) };
  } catch (error) {
    throw new ConfigurationError(`${functionName}: STORE_API_KEYS ${(error as Error).message} (built by config/api-keys.js)`);
  }
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
