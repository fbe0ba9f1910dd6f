// @ts-check
/**
 * API keys and usage plans of the ingest API, built from the stage's params (serverless.yml):
 * one key and one usage plan (throttle + daily quota) per POS store in `param:stores`.
 *
 * Locally, whoever starts serverless-offline passes the key to enforce with `--param=localApiKey=...`.
 * serverless-offline 13 only reads keys listed flat with a `value` (it ignores usage-plan groups), so that
 * key is declared alone. Without it, offline makes a key up and prints it at start.
 */

/** @typedef {{ resolveVariable: (variable: string) => Promise<unknown> }} ResolverArgs */

/** @param {ResolverArgs} args */
async function settings({ resolveVariable }) {
  const service = String(await resolveVariable('self:service'));
  const stage = String(await resolveVariable('sls:stage'));
  const stores = await resolveVariable('param:stores');
  if (!Array.isArray(stores) || stores.length === 0 || !stores.every((store) => typeof store === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(store))) {
    throw new Error(`param "stores" must be a non-empty list of store ids (letters, digits, "_" or "-"), got ${JSON.stringify(stores)}`);
  }
  const localApiKey = await resolveVariable('param:localApiKey, null');
  return { service, stage, stores: /** @type {string[]} */ (stores), localApiKey: typeof localApiKey === 'string' && localApiKey ? localApiKey : undefined };
}

/**
 * Serverless derives CloudFormation logical ids from usage-plan names, and those allow only letters and digits:
 * `store-001` becomes the plan `store001` (the key keeps the full store id in its name).
 * @param {string[]} stores
 */
function planNames(stores) {
  const names = stores.map((store) => store.replace(/[^A-Za-z0-9]/g, ''));
  const clash = names.find((name, index) => names.indexOf(name) !== index);
  if (clash) throw new Error(`param "stores": two stores map to the same usage plan name "${clash}" (only letters and digits count)`);
  return names;
}

/** @param {ResolverArgs} args */
async function apiKeys(args) {
  const { service, stage, stores, localApiKey } = await settings(args);
  if (localApiKey) return [{ name: `${service}-${stage}-local`, value: localApiKey, description: 'Local key passed to serverless-offline' }];
  // No value: API Gateway generates each key (read it with `aws apigateway get-api-keys --include-values`).
  const plans = planNames(stores);
  return stores.map((store, index) => ({ [String(plans[index])]: [{ name: `${service}-${stage}-${store}`, description: `POS store ${store}` }] }));
}

/** @param {ResolverArgs} args */
async function usagePlan(args) {
  const { stores, localApiKey } = await settings(args);
  const rateLimit = Number(await args.resolveVariable('param:storeRateLimit'));
  const burstLimit = Number(await args.resolveVariable('param:storeBurstLimit'));
  const dailyQuota = Number(await args.resolveVariable('param:storeDailyQuota'));
  const plan = { throttle: { rateLimit, burstLimit }, quota: { limit: dailyQuota, period: 'DAY' } };
  if (localApiKey) return plan;
  return planNames(stores).map((name) => ({ [name]: plan }));
}

module.exports = { apiKeys, usagePlan };
