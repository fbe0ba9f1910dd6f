#!/usr/bin/env tsx
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { runMain } from './run-main';
import { REPO_ROOT } from '@invoice-pipeline/local-stack';
import { packageStage } from './package-stage';
import { deployedWarehouse, pbidsFor, pbidsPath, writePbids } from './pbids';

const USAGE = `usage: pnpm package --stage STAGE [--account ID]

Packages every service of serverless-compose.yml for STAGE with no AWS credentials and leaves each service's
CloudFormation template in .serverless/templates/STAGE/<service>.json (what the template tests read). Once the stage
is deployed from this checkout, it also writes the warehouse's Power BI connection file (see pnpm pbids --help).

  --stage STAGE     dev, prod or any stage name (required)
  --account ID      account id the bucket names end with (default 000000000000: a deploy resolves the real one)`;

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { stage: { type: 'string' }, account: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) return console.log(USAGE), 0;
  if (!values.stage) return console.error(USAGE), 2;
  const started = Date.now();
  const templates = await packageStage({ stage: values.stage, account: values.account, log: (line) => console.log(line) });
  for (const [service, path] of Object.entries(templates)) console.log(`${service}: ${relative(REPO_ROOT, path)}`);
  console.log(`packaged stage ${values.stage} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  // Once the stage is deployed from here, its warehouse's Power BI connection file comes with every package.
  const deployed = await deployedWarehouse(values.stage);
  if (deployed && !deployed.endpoint.startsWith('offline-package-')) {
    await writePbids(pbidsPath(values.stage), pbidsFor(deployed));
    console.log(`Power BI connection file: ${relative(REPO_ROOT, pbidsPath(values.stage))}`);
  }
  return 0;
}

runMain(main);
