import { resolve } from 'node:path';
import { createLocalApiKey } from './offline';
import type { ServiceDefinition } from './service-definitions';

/**
 * The API keys of a local run, made fresh per run and published only in endpoints.json: one key for every store
 * (what `pnpm replay` sends with), one per store (a store reads only its own invoices) and a back-office key (customer
 * histories). Ingest's config/api-keys.js turns them into serverless-offline keys and their store bindings.
 */
export interface LocalKeys {
  /** What endpoints.json publishes under `api`. */
  api: { key: string; backofficeKey: string; storeKeys: Record<string, string> };
  /** Ingest's params for them (`localApiKey`, `localStoreKeys`, `localBackofficeKey`). */
  params: Record<string, string>;
  /** Every key value, for another serverless-offline process that must accept the same keys. */
  values: string[];
}

/** A param of a printed service as serverless resolves it: the CLI's (compose's), then the stage's, then default. */
function paramOf(definition: ServiceDefinition, stage: string, name: string): unknown {
  const params = (definition.config.params ?? {}) as Record<string, Record<string, unknown> | undefined>;
  return definition.params[name] ?? params[stage]?.[name] ?? params.default?.[name];
}

function stageOf(definition: ServiceDefinition): string {
  return String((definition.config.provider as { stage?: string } | undefined)?.stage ?? 'local');
}

export function localKeys(ingest: ServiceDefinition): LocalKeys {
  const stores = paramOf(ingest, stageOf(ingest), 'stores');
  if (!Array.isArray(stores)) throw new Error(`ingest's param "stores" is not a list: ${JSON.stringify(stores)}`);
  const key = createLocalApiKey();
  const backofficeKey = createLocalApiKey();
  const storeKeys = Object.fromEntries(stores.map((store) => [String(store), createLocalApiKey()]));
  return {
    api: { key, backofficeKey, storeKeys },
    params: {
      localApiKey: key,
      localStoreKeys: Object.entries(storeKeys)
        .map(([store, value]) => `${store}=${value}`)
        .join(','),
      localBackofficeKey: backofficeKey,
    },
    values: [key, backofficeKey, ...Object.values(storeKeys)],
  };
}

type KeyBindingsResolver = (args: { resolveVariable(variable: string): Promise<unknown> }) => Promise<unknown>;

/**
 * Ingest's StoreApiKeys output (which store(s) each key speaks for: digests, no key value) for the local keys, from
 * the one function that defines it (ingest's config/api-keys.js), evaluated here with the variables serverless would
 * give it: `sls print` would take about 10 s on this machine before the stream processor could start.
 */
export async function localKeyBindings(ingest: ServiceDefinition, keyParams: Record<string, string>): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- serverless's own CommonJS variable resolver
  const { keyBindings } = require(resolve(ingest.path, 'config/api-keys.js')) as { keyBindings: KeyBindingsResolver };
  const stage = stageOf(ingest);
  const known: Record<string, unknown> = { 'self:service': ingest.service, 'sls:stage': stage };
  const bindings = await keyBindings({
    async resolveVariable(variable) {
      if (variable in known) return known[variable];
      const param = /^param:(\w+)(, null)?$/.exec(variable);
      if (param?.[1]) return keyParams[param[1]] ?? paramOf(ingest, stage, param[1]) ?? (param[2] ? null : undefined);
      throw new Error(`local key bindings: ingest's config/api-keys.js asks for ${variable}, which the local stack does not resolve`);
    },
  });
  if (typeof bindings !== 'string') throw new Error('ingest\'s config/api-keys.js gave no local key bindings (is "localApiKey" passed?)');
  return bindings;
}
