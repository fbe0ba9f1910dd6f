#!/usr/bin/env tsx
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { GlueClient } from '@aws-sdk/client-glue';
import { GetObjectCommand, NoSuchKey } from '@aws-sdk/client-s3';
import { emulatorS3Client, type LocalClientEndpoints } from '@invoice-pipeline/local-emulators';
import { listSourceFiles } from '@invoice-pipeline/transactions/files';
import { BATCH_FILES_TOTALS_SQL, type BatchFilesTotals } from '@invoice-pipeline/warehouse';
import { connectWarehouse } from '@invoice-pipeline/warehouse/postgres';
import { rejectedKey } from './job';
import { deliverDumps } from './upload';

const USAGE = `usage: pnpm load-dump FILE|FOLDER [--dir DIR]

Delivers CSV dumps (.csv or .csv.gz; a folder: its files in name order) to the running local stack (pnpm stack or
pnpm start) as a store would: each file is uploaded to the dumps bucket's incoming/, where the bucket's trigger starts
the Glue job for it (header check, the Spark SQL transform on DuckDB, staging and the one merge); the same happens to
a file copied there with \`aws s3 cp\`. Waits for each load, then prints what the warehouse holds of the files.
Bad rows are in the bucket's rejected/. Loading a file again changes nothing. Exits non-zero if a load failed.
DIR is the local stack's state folder (default .local/).`;

interface StackEndpoints extends LocalClientEndpoints {
  glue?: string;
  warehouse: { url: string };
  outputs: Record<string, Record<string, string>>;
}

const count = (n: number) => n.toLocaleString('en-GB');

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { dir: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  const [source] = positionals;
  if (values.help || !source) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const endpointsPath = resolve(values.dir ?? resolve(__dirname, '../../../.local'), 'endpoints.json');
  const endpoints = JSON.parse(await readFile(endpointsPath, 'utf8').catch(() => {
    throw new Error(`cannot read ${endpointsPath}: start the local stack first (pnpm stack, or pnpm start)`);
  })) as StackEndpoints;
  const bucket = endpoints.outputs['batch-loader']?.DumpsBucketName;
  const jobName = endpoints.outputs['batch-loader']?.GlueJobName;
  if (!endpoints.glue || !bucket || !jobName) throw new Error(`${endpointsPath} names no local Glue or dumps bucket: restart the local stack with this version`);
  const paths = await listSourceFiles(resolve(process.env.INIT_CWD ?? process.cwd(), source));

  const s3 = emulatorS3Client({ region: endpoints.region, credentials: endpoints.credentials, endpoint: endpoints.s3 });
  const glue = new GlueClient({ region: endpoints.region, credentials: endpoints.credentials, endpoint: endpoints.glue });
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
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: rejectedKey(delivery.key, 'bad-rows.jsonl') }));
      const badRows = (await object.Body?.transformToString('utf8'))?.split('\n').filter(Boolean) ?? [];
      for (const line of badRows.slice(0, 5)) {
        const bad = JSON.parse(line) as { file: string; line: number; field: string; reason: string };
        console.log(`    bad row ${bad.file}:${bad.line} ${bad.field}: ${bad.reason}`);
      }
      if (badRows.length > 5) console.log(`    … ${count(badRows.length - 5)} more in s3://${bucket}/${rejectedKey(delivery.key, 'bad-rows.jsonl')}`);
    } catch (error) {
      if (!(error instanceof NoSuchKey)) throw error;
    }
  }

  const warehouse = await connectWarehouse(endpoints.warehouse.url);
  const loaded = deliveries.filter((d) => d.state === 'SUCCEEDED').map((d) => d.key);
  const [totals] = await warehouse.query<BatchFilesTotals>(BATCH_FILES_TOTALS_SQL, [loaded]).finally(() => warehouse.close());
  const seconds = (performance.now() - started) / 1000;
  const rows = (totals?.linesRecorded ?? 0) + (totals?.rejected ?? 0);
  console.log(
    `\nloaded ${loaded.length} of ${deliveries.length} file(s) in ${seconds.toFixed(1)} s (${count(Math.round(rows / seconds))} rows/s): ` +
      `${count(rows)} rows, ${count(totals?.lines ?? 0)} lines of ${count(totals?.invoices ?? 0)} invoices in the warehouse, ` +
      `${count(totals?.rejected ?? 0)} bad rows (s3://${bucket}/rejected/), revenue ${totals?.revenue ?? '0.000'}`,
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
