#!/usr/bin/env tsx
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { runMain } from './run-main';
import { REPO_ROOT } from '@invoice-pipeline/local-stack';
import { deployedWarehouse, pbidsFor, pbidsPath, REDSHIFT_PORT, writePbids, type PowerBiMode } from './pbids';

const USAGE = `usage: pnpm pbids --stage STAGE [--mode DirectQuery|Import] [--port N] [--out FILE]
       pnpm pbids --stage STAGE --endpoint HOST --database NAME [...]

Writes the Power BI connection file of the stage's warehouse (default .serverless/powerbi/invoice-warehouse-STAGE.pbids):
the workgroup's endpoint and database from the outputs the stage's deploy recorded in .serverless/state.STAGE.json
(serverless-compose writes it), or as given. It names no user and holds no secret: Power BI asks each analyst for
their own credentials.

  --stage STAGE         the deployed stage (required)
  --mode MODE           DirectQuery (default: live figures) or Import (a copy refreshed on schedule)
  --port N              the workgroup's port (default ${REDSHIFT_PORT})
  --endpoint HOST       the warehouse endpoint, when this checkout did not deploy the stage
  --database NAME       the warehouse database, with --endpoint
  --out FILE            where to write it`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      stage: { type: 'string' },
      mode: { type: 'string', default: 'DirectQuery' },
      port: { type: 'string' },
      endpoint: { type: 'string' },
      database: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return console.log(USAGE), 0;
  if (!values.stage) return console.error(USAGE), 2;
  const given = values.endpoint && values.database ? { endpoint: values.endpoint, database: values.database } : undefined;
  const warehouse = given ?? (await deployedWarehouse(values.stage));
  if (!warehouse) {
    console.error(
      `no warehouse outputs recorded for stage ${values.stage} in .serverless/state.${values.stage}.json: deploy it first ` +
        `(pnpm exec serverless-compose deploy --stage ${values.stage}), or pass --endpoint and --database ` +
        `(pnpm exec serverless-compose outputs --stage ${values.stage}, warehouse service)`,
    );
    return 1;
  }
  const pbids = pbidsFor({ ...warehouse, port: values.port === undefined ? undefined : Number(values.port) }, values.mode as PowerBiMode);
  const path = values.out ?? pbidsPath(values.stage);
  await writePbids(path, pbids);
  console.log(`${path.startsWith(REPO_ROOT) ? relative(REPO_ROOT, path) : path}: ${pbids.connections[0].details.address.server}, database ${warehouse.database}, ${pbids.connections[0].mode}`);
  return 0;
}

runMain(main);
