/**
 * A function's environment is wrong: thrown at cold start, naming the variable, never mid-batch or mid-request
 * (a handler module reads its configuration once, when it is loaded).
 */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

/** A required variable of a function's environment; `hint` says where it should come from. */
export function requiredEnv(env: NodeJS.ProcessEnv, functionName: string, name: string, hint = 'set by serverless.yml'): string {
  const value = env[name];
  if (value === undefined || value === '') throw new ConfigurationError(`${functionName}: environment variable ${name} is not set (${hint})`);
  return value;
}
