// @ts-check
// Serverless loads this file as CommonJS.
const { createHash } = require('node:crypto');

/**
 * API keys and usage plans of the ingest API, built from the stage's params (serverless.yml):
 * one key and one usage plan (throttle + daily quota) per POS store in `param:stores`, and one back-office key
 * with its own plan (reads only). `keyBindings` says which store(s) each key speaks for (STORE_API_KEYS).
 *
 * Locally, whoever starts serverless-offline passes the keys to enforce: `--param=localApiKey=...` (bound to every
 * store of `param:stores`), optionally `--param=localStoreKeys=store-001=KEY,store-002=KEY` (one store each) and
 * `--param=localBackofficeKey=...`. serverless-offline 13 only reads keys listed flat with a `value` (it ignores
 * usage-plan groups), so they are declared that way. Without them, offline makes a key up and prints it at start.
 */

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const BACKOFFICE_PLAN = 'backoffice';
const digest = (/** @type {string} */ value) => `sha256:${createHash('sha256').update(value, 'utf8').digest('hex')}`;

/** @typedef {{ resolveVariable: (variable: string) => Promise<unknown> }} ResolverArgs */

/** @param {ResolverArgs} args */
async function settings({ resolveVariable }) {
  const service = String(await resolveVariable('self:service'));
  const stage = String(await resolveVariable('sls:stage'));
  const stores = await resolveVariable('param:stores');
  if (!Array.isArray(stores) || stores.length === 0 || !stores.every((store) => typeof store === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(store))) {
    throw new Error(`param "stores" must be a non-empty list of store ids (letters, digits, "_" or "-"), got ${JSON.stringify(stores)}`);
  }
  const text = async (/** @type {string} */ name) => {
    const value = await resolveVariable(`param:${name}, null`);
    return typeof value === 'string' && value ? value : undefined;
  };
  const localApiKey = await text('localApiKey');
  /** @type {Array<{ store: string, key: string }>} */
  const localStoreKeys = ((await text('localStoreKeys')) ?? '')
    .split(',')
    .filter(Boolean)
    .map((pair) => {
      const [store = '', key = ''] = pair.split('=');
      if (!ID.test(store) || !key) throw new Error(`param "localStoreKeys" must be "store=key,..." pairs, got an entry for ${JSON.stringify(store)}`);
      return { store, key };
    });
  return { service, stage, stores: /** @type {string[]} */ (stores), localApiKey, localStoreKeys, localBackofficeKey: await text('localBackofficeKey') };
}

/**
 * Serverless derives CloudFormation logical ids from usage-plan names, and those allow only letters and digits:
 * `store-001` becomes the plan `store001` (the key keeps the full store id in its name).
 * @param {string[]} stores
 */
function planNames(stores) {
  const names = stores.map((store) => store.replace(/[^A-Za-z0-9]/g, ''));
  const clash = [...names, BACKOFFICE_PLAN].find((name, index, all) => all.indexOf(name) !== index);
  if (clash) throw new Error(`param "stores": two stores map to the same usage plan name "${clash}" (only letters and digits count)`);
  return names;
}

/** Keys passed to serverless-offline, each with who it speaks for. */
function localKeys(/** @type {Awaited<ReturnType<typeof settings>>} */ config) {
  const { service, stage, stores, localApiKey, localStoreKeys, localBackofficeKey } = config;
  if (!localApiKey) return undefined;
  return [
    { name: `${service}-${stage}-local`, value: localApiKey, principal: { role: 'store', stores } },
    ...localStoreKeys.map(({ store, key }) => ({ name: `${service}-${stage}-local-${store}`, value: key, principal: { role: 'store', stores: [store] } })),
    ...(localBackofficeKey ? [{ name: `${service}-${stage}-local-backoffice`, value: localBackofficeKey, principal: { role: 'backoffice' } }] : []),
  ];
}

/** @param {ResolverArgs} args */
async function apiKeys(args) {
  const config = await settings(args);
  const local = localKeys(config);
  if (local) return local.map(({ name, value }) => ({ name, value, description: 'Local key passed to serverless-offline' }));
  // No value: API Gateway generates each key (read it with `aws apigateway get-api-keys --include-values`).
  const { service, stage, stores } = config;
  const plans = planNames(stores);
  return [
    ...stores.map((store, index) => ({ [String(plans[index])]: [{ name: `${service}-${stage}-${store}`, description: `POS store ${store}` }] })),
    { [BACKOFFICE_PLAN]: [{ name: `${service}-${stage}-backoffice`, description: 'Back office: reads any invoice and customer histories, sends nothing' }] },
  ];
}

/**
 * STORE_API_KEYS of the functions: credential -> principal (see @invoice-pipeline/transactions api-keys.ts).
 * Deployed, a key is named by its id, which CloudFormation knows only at deploy time (a Ref to the key serverless
 * creates as ApiGatewayApiKey<Plan>1); locally, by the digest of its value. No key value is ever written here.
 * @param {ResolverArgs} args
 */
async function keyBindings(args) {
  const config = await settings(args);
  const local = localKeys(config);
  if (local) return JSON.stringify(Object.fromEntries(local.map(({ value, principal }) => [digest(value), principal])));
  const plans = planNames(config.stores);
  /** @type {Array<[string, object]>} */
  const entries = [
    ...config.stores.map((store, index) => /** @type {[string, object]} */ ([String(plans[index]), { role: 'store', stores: [store] }])),
    [BACKOFFICE_PLAN, { role: 'backoffice' }],
  ];
  /** @type {unknown[]} */
  const parts = ['{'];
  entries.forEach(([plan, principal], index) => {
    const keyLogicalId = `ApiGatewayApiKey${plan.charAt(0).toUpperCase()}${plan.slice(1)}1`;
    parts.push(`${index ? ',' : ''}"id:`, { Ref: keyLogicalId }, `":${JSON.stringify(principal)}`);
  });
  parts.push('}');
  return { 'Fn::Join': ['', parts] };
}

/** @param {ResolverArgs} args */
async function usagePlan(args) {
  const { stores, localApiKey } = await settings(args);
  const rateLimit = Number(await args.resolveVariable('param:storeRateLimit'));
  const burstLimit = Number(await args.resolveVariable('param:storeBurstLimit'));
  const dailyQuota = Number(await args.resolveVariable('param:storeDailyQuota'));
  const plan = { throttle: { rateLimit, burstLimit }, quota: { limit: dailyQuota, period: 'DAY' } };
  if (localApiKey) return plan;
  // The back office reads at a human pace: a tenth of a store's rate.
  const backoffice = { throttle: { rateLimit: Math.max(1, Math.floor(rateLimit / 10)), burstLimit: Math.max(1, Math.floor(burstLimit / 10)) }, quota: { limit: dailyQuota, period: 'DAY' } };
  return [...planNames(stores).map((name) => ({ [name]: plan })), { [BACKOFFICE_PLAN]: backoffice }];
}

module.exports = { apiKeys, usagePlan, keyBindings };
