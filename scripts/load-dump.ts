#!/usr/bin/env tsx
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { batchFilesTotals, deliverDumps, localGlueClient, readRejectedRows, rejectedKey } from '@invoice-pipeline/local-glue';
import { connectWarehouse, DEFAULT_LOCAL_DIR, emulatorS3Client, readEndpoints, stageOutputs } from '@invoice-pipeline/local-stack';
import { listSourceFiles } from '@invoice-pipeline/transactions/files';

const USAGE = `usage: pnpm load-dump FILE|FOLDER [--dir DIR]

Delivers CSV dumps (.csv or .csv.gz; a folder: its files in name order) to the running local stack (pnpm stack or
pnpm start) as a store would: each file is uploaded to the dumps bucket's incoming/, where the bucket's trigger starts
the Glue job for it (header check, the Spark SQL transform on DuckDB, staging and the one merge); the same happens to
a file copied there with \`aws s3 cp\`. Waits for each load, then prints what the warehouse holds of the files.
Bad rows are in the bucket's rejected/. Loading a file again changes nothing. Exits non-zero if a load failed.
DIR is the local stack's state folder (default .local/).`;

const count = (n: number) => n.toLocaleString('en-GB');

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { dir: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  const [source] = positionals;
  if (values.help || !source) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const dir = values.dir ?? DEFAULT_LOCAL_DIR;
  const endpoints = await readEndpoints(dir, 'start the local stack (pnpm stack, or pnpm start)');
  if (!endpoints.glue) throw new Error(`${dir}/endpoints.json names no local Glue: restart the local stack with this version`);
  const { dumpsBucket: bucket, glueJobName: jobName } = stageOutputs(endpoints);
  const paths = await listSourceFiles(resolve(process.env.INIT_CWD ?? process.cwd(), source));

  const s3 = emulatorS3Client({ region: endpoints.region, credentials: endpoints.credentials, endpoint: endpoints.s3 });
  const glue = localGlueClient({ region: endpoints.region, credentials: endpoints.credentials, endpoint: endpoints.glue });
  const started = performance.now();
  const interactive = process.stderr.isTTY;
  const deliveries = await deliverDumps({
    s3,
    glue,
    bucket,
    jobName,
    paths,
    onProgress: ({ index, count: files, key, phase, seconds }) => {
      if (interactive) process.stderr.write(`\r\x1b[K  [${index + 1}/${files}] ${key}: ${phase} ${seconds.toFixed(0)} s`);
    },
  });
  if (interactive) process.stderr.write('\r\x1b[K');

  for (const delivery of deliveries) {
    console.log(`  ${delivery.key}: ${delivery.state === 'SUCCEEDED' ? 'loaded' : `FAILED: ${delivery.error}`} (${(delivery.bytes / 2 ** 20).toFixed(1)} MiB, ${delivery.seconds.toFixed(1)} s, run ${delivery.runId})`);
    if (delivery.state !== 'SUCCEEDED') continue;
    const badRows = await readRejectedRows(s3, bucket, delivery.key);
    for (const bad of badRows.slice(0, 5)) console.log(`    bad row ${bad.file}:${bad.line} ${bad.field}: ${bad.reason}`);
    if (badRows.length > 5) console.log(`    … ${count(badRows.length - 5)} more in s3://${bucket}/${rejectedKey(delivery.key, 'bad-rows.jsonl')}`);
  }

  const warehouse = await connectWarehouse(endpoints.warehouse.url);
  const loaded = deliveries.filter((d) => d.state === 'SUCCEEDED').map((d) => d.key);
  const totals = await batchFilesTotals(warehouse, loaded).finally(() => warehouse.close());
  const seconds = (performance.now() - started) / 1000;
  const rows = (totals.linesRecorded ?? 0) + (totals.rejected ?? 0);
  console.log(
    `\nloaded ${loaded.length} of ${deliveries.length} file(s) in ${seconds.toFixed(1)} s (${count(Math.round(rows / seconds))} rows/s): ` +
      `${count(rows)} rows, ${count(totals.lines ?? 0)} lines of ${count(totals.invoices ?? 0)} invoices in the warehouse, ` +
      `${count(totals.rejected ?? 0)} bad rows (s3://${bucket}/rejected/), revenue ${totals.revenue ?? '0.000'}`,
  );
  s3.destroy();
  glue.destroy();
  return loaded.length === deliveries.length ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
