import { ensurePackaged } from '../src/ensure-packaged';
import { pbidsFor } from '../src/pbids';
import type { StageTemplates } from '../src/templates';

/**
 * `pnpm pbids` reads the warehouse service's Endpoint and Database outputs from the compose state a deploy writes: the
 * packaged warehouse template must still have them, with Endpoint the workgroup's endpoint address (a host name).
 */
let templates: StageTemplates;
beforeAll(async () => {
  templates = await ensurePackaged('prod');
}, 600_000);

it('the warehouse template outputs the Endpoint (workgroup address) and Database the Power BI file is made from', () => {
  const outputs = (templates.warehouse as unknown as { Outputs: Record<string, { Value: unknown }> }).Outputs;
  expect(outputs.Endpoint?.Value).toEqual({ 'Fn::GetAtt': ['Workgroup', 'Workgroup.Endpoint.Address'] });
  expect(typeof outputs.Database?.Value).toBe('string');
  expect(pbidsFor({ endpoint: 'invoice-prod.123456789012.eu-west-2.redshift-serverless.amazonaws.com', database: outputs.Database?.Value as string }).connections[0].details.address.database).toBe(outputs.Database?.Value);
});
