/** Reads a required environment variable once, failing at cold start with a clear message rather than mid-batch. */
export function getEnvVariable(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`missing environment variable ${name}: set it in serverless.yml`);
  return value;
}
