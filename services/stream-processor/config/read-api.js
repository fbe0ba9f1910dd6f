// @ts-check
/**
 * Where the read functions' HTTP events go. Deployed through compose, they join ingest's REST API (same URL, same
 * API keys and usage plans): compose passes ingest's RestApiId, RestApiRootResourceId and the id of its /invoices
 * resource (so /invoices/{invoiceNo} is added under it, not created twice). Without those params (package:check)
 * the service gets an API of its own.
 *
 * Offline (the local pipeline), `--param=localApiKeys=KEY,KEY,...` lists the key values serverless-offline accepts:
 * the same keys as ingest's process (whose STORE_API_KEYS binding arrives as `storeApiKeys`, as compose passes it),
 * behind one local router that gives both processes one base URL (packages/local-stack/src/api-router.ts).
 */

/** @typedef {{ resolveVariable: (variable: string) => Promise<unknown> }} ResolverArgs */

/** @param {ResolverArgs} args */
async function apiGateway({ resolveVariable }) {
  const param = async (/** @type {string} */ name) => {
    const value = await resolveVariable(`param:${name}, null`);
    return typeof value === 'string' && value ? value : undefined;
  };
  const localApiKeys = await param('localApiKeys');
  if (localApiKeys) return { apiKeys: localApiKeys.split(',').map((value, index) => ({ name: `local-read-${index + 1}`, value })) };
  const restApiId = await param('restApiId');
  if (!restApiId) return {};
  const restApiRootResourceId = await param('restApiRootResourceId');
  const invoicesResourceId = await param('invoicesResourceId');
  if (!restApiRootResourceId || !invoicesResourceId) throw new Error('params restApiRootResourceId and invoicesResourceId are required with restApiId (ingest outputs, passed by compose)');
  return { restApiId, restApiRootResourceId, restApiResources: { '/invoices': invoicesResourceId } };
}

module.exports = { apiGateway };
