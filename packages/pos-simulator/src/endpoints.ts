import { DEFAULT_LOCAL_DIR, endpointsFile, readEndpointsFile } from '@invoice-pipeline/local-stack/endpoints';

/** Where the local stack writes its endpoints: `.local/endpoints.json` at the repository root. */
export const DEFAULT_ENDPOINTS_FILE = endpointsFile(DEFAULT_LOCAL_DIR);

/** The ingest API: base URL (POST goes to `${url}/invoices`) and the API key sent as `x-api-key`. */
export interface ApiTarget {
  url: string;
  key: string;
}

/** Reads `api.url` and `api.key` of an endpoints file (`{ "api": { "url": "...", "key": "..." }, ... }`). */
export async function readApiTarget(file = DEFAULT_ENDPOINTS_FILE): Promise<ApiTarget> {
  const endpoints = await readEndpointsFile(file, 'start the pipeline (pnpm start, or pnpm start --no-replay to serve without replaying) or pass --url and --api-key');
  const api = endpoints.api as { url?: unknown; key?: unknown } | undefined;
  if (typeof api?.url !== 'string' || typeof api.key !== 'string') {
    throw new Error(`${file} has no api.url and api.key: is the ingest API running (pnpm start --no-replay)? Or pass --url and --api-key`);
  }
  return { url: api.url, key: api.key };
}
