import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

/** Where the local stack writes its endpoints: `.local/endpoints.json` at the repository root. */
export const DEFAULT_ENDPOINTS_FILE = resolve(__dirname, '../../../.local/endpoints.json');

/** The ingest API: base URL (POST goes to `${url}/invoices`) and the API key sent as `x-api-key`. */
export interface ApiTarget {
  url: string;
  key: string;
}

/** Reads `api.url` and `api.key` of an endpoints file (`{ "api": { "url": "...", "key": "..." }, ... }`). */
export async function readApiTarget(file = DEFAULT_ENDPOINTS_FILE): Promise<ApiTarget> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): start the pipeline (pnpm start, or pnpm start --no-replay to serve without replaying) or pass --url and --api-key`);
  }
  const api = (JSON.parse(text) as { api?: { url?: unknown; key?: unknown } }).api;
  if (typeof api?.url !== 'string' || typeof api.key !== 'string') {
    throw new Error(`${file} has no api.url and api.key: is the ingest API running (pnpm start --no-replay)? Or pass --url and --api-key`);
  }
  return { url: api.url, key: api.key };
}
