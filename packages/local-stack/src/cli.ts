#!/usr/bin/env tsx
import { parseArgs } from 'node:util';
import { DEFAULT_LOCAL_DIR, endpointsFile, stageOutputs } from './endpoints';
import { startStack } from './stack';

const USAGE = `usage: pnpm stack [--fresh] [--dir DIR]

Starts the offline AWS in the foreground (Kinesis, DynamoDB, S3, Firehose, warehouse), provisions every
service's resources for stage "local" and writes DIR/endpoints.json (default .local/). Ctrl-C stops it.
WAREHOUSE_URL=postgres://… uses a real Postgres instead of the embedded one.`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { fresh: { type: 'boolean', default: false }, dir: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const dir = values.dir ?? DEFAULT_LOCAL_DIR;
  const started = performance.now();
  const stack = await startStack({ dir, fresh: values.fresh, warehouseUrl: process.env.WAREHOUSE_URL, log: (line) => console.log(`  ${line}`) });
  const { endpoints } = stack;
  const names = Object.entries(endpoints.resources).flatMap(([service, resources]) =>
    Object.entries(resources).map(([id, r]) => `  ${service}/${id}: ${r.name}`),
  );
  console.log(`\nlocal stack up in ${((performance.now() - started) / 1000).toFixed(1)} s; endpoints in ${endpointsFile(dir)}\n${names.join('\n')}`);
  const { streamName: stream, tableName: table, dumpsBucket: dumps } = stageOutputs(endpoints);
  console.log(`
Try:
  export AWS_ACCESS_KEY_ID=${endpoints.credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${endpoints.credentials.secretAccessKey} AWS_DEFAULT_REGION=${endpoints.region}
  aws --endpoint-url ${endpoints.kinesis} kinesis describe-stream --stream-name ${stream}
  aws --endpoint-url ${endpoints.dynamodb} dynamodb describe-table --table-name ${table}
  aws --endpoint-url ${endpoints.s3} s3 ls
  aws --endpoint-url ${endpoints.s3} s3 cp data/online-retail/samples/head-1071rows_kaggle-format_Kristina-A.csv s3://${dumps}/incoming/   # the batch path loads it
  psql "${endpoints.warehouse.url}" -c 'select 1'

Ctrl-C to stop.`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the local stack…`);
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
