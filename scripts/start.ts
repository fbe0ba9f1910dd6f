/**
 * `pnpm start`: the main job. Runs both paths offline and reconciles every sink with the sources, exactly: the local
 * stack, ingest and stream-processor under serverless-offline; a dump (a bundled sample by default) through the
 * batch path (dumps bucket, trigger, local Glue job); a replay of the data through POST /invoices; then lines,
 * invoices and revenue per sink, the warehouse against the union of both sources (a line both paths sent counts
 * once). Keeps serving until Ctrl-C, or exits with the reconciliation's verdict with --exit (or CI=true).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  countBadRecords,
  DEFAULT_LOCAL_DIR,
  FREE_PORTS,
  readArchiveTotals,
  readDynamoDbTotals,
  readStreamTotals,
  readWarehouseTotals,
  SharedRecords,
  stageOutputs,
  startLocalPipeline,
  type SinkTotals,
} from '@invoice-pipeline/local-stack';
import { startLocalDashboard, type RunningDashboard, type SinkCount } from '@invoice-pipeline/dashboard';
import { batchFilesTotals, deliverDumps, localGlueClient } from '@invoice-pipeline/local-glue';
import { formatSummary, isComplete, replayInWorker } from '@invoice-pipeline/pos-simulator';
import { BUNDLED_DATASET, BUNDLED_SAMPLES, type Totals } from '@invoice-pipeline/transactions/files';

const USAGE = `usage: pnpm start [--source PATH] [--dump PATH] [--no-dump] [--no-replay] [--stores N] [--batch-size N] [--concurrency N] [--keep] [--exit] [--dir DIR] [--random-ports]

  --source       CSV, .csv.gz or folder to replay (default: the bundled Online Retail dataset; a small slice:
                 data/online-retail/samples/head-1071rows_kaggle-format_Kristina-A.csv)
  --dump         CSV or .csv.gz loaded through the batch path before the replay (default: the bundled Kaggle-layout
                 sample, the dataset's first 1,071 rows, so both paths deliver those lines); --no-dump: none
  --no-replay    come up and serve (API, dashboard, emulators) without replaying anything (with --keep: on the last run's data)
  --keep         keep .local/ data from the last run (default: start empty, so totals reconcile with the source)
  --exit         exit after the reconciliation, non-zero if anything does not reconcile (default when CI=true)
  --dir          state folder (default .local/); --random-ports: free ports instead of the fixed ones (tests)`;

interface SinkCheck {
  sink: string;
  totals: SinkTotals | undefined;
  ok: boolean;
  note: string;
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

function sameTotals(a: Totals, b: Totals): boolean {
  return a.invoices === b.invoices && a.lines === b.lines && a.revenue === b.revenue && JSON.stringify(a.byType) === JSON.stringify(b.byType);
}

function printChecks(reference: Totals, checks: SinkCheck[]): void {
  const row = (cells: string[]) => console.log(`  ${cells[0]?.padEnd(22)}${cells[1]?.padStart(10)}${cells[2]?.padStart(10)}${cells[3]?.padStart(16)}  ${cells[4]}`);
  row(['', 'invoices', 'lines', 'revenue', '']);
  row(['source', String(reference.invoices), String(reference.lines), reference.revenue, '']);
  for (const check of checks) {
    const t = check.totals;
    row([check.sink, String(t?.invoices ?? '-'), String(t?.lines ?? '-'), t?.revenue ?? '-', `${check.ok ? 'ok' : 'MISMATCH'}${check.note ? ` (${check.note})` : ''}`]);
  }
}

async function untilInterrupted(): Promise<void> {
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log('stopping…');
}

/** Loads a dump through the batch path as a store would deliver it (incoming/, trigger, Glue run). */
async function loadDump(pipeline: Awaited<ReturnType<typeof startLocalPipeline>>, path: string) {
  const started = performance.now();
  const { endpoints } = pipeline.stack;
  const { dumpsBucket, glueJobName } = stageOutputs(endpoints);
  const glue = localGlueClient({ region: endpoints.region, credentials: endpoints.credentials, endpoint: endpoints.glue ?? '' });
  try {
    const [delivery] = await deliverDumps({ s3: pipeline.stack.clients.s3, glue, bucket: dumpsBucket, jobName: glueJobName, paths: [path] });
    if (delivery?.state !== 'SUCCEEDED') throw new Error(`the dump ${path} did not load: ${delivery?.error ?? 'no run'}`);
    console.log(`batch path: ${delivery.key} loaded through the dumps bucket and the local Glue job in ${seconds(started)}`);
    return { path, key: delivery.key };
  } finally {
    glue.destroy();
  }
}

/** pnpm passes a `--` through (`pnpm start -- --no-dump`): it is not an argument of this command. */
const commandArgs = (argv: string[]) => (argv[0] === '--' ? argv.slice(1) : argv);

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: commandArgs(process.argv.slice(2)),
      options: {
        source: { type: 'string', default: BUNDLED_DATASET },
        dump: { type: 'string', default: BUNDLED_SAMPLES.kaggleHead },
        'no-dump': { type: 'boolean', default: false },
        stores: { type: 'string', default: '8' },
        'batch-size': { type: 'string', default: '100' },
        concurrency: { type: 'string', default: '4' },
        'no-replay': { type: 'boolean', default: false },
        keep: { type: 'boolean', default: false },
        exit: { type: 'boolean', default: process.env.CI === 'true' },
        dir: { type: 'string', default: DEFAULT_LOCAL_DIR },
        'random-ports': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    console.error(`pnpm start: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const started = performance.now();
  const dir = values.dir;
  console.log(`starting the offline pipeline (local stack, ingest and stream-processor under serverless-offline)…`);
  const pipeline = await startLocalPipeline({
    dir,
    fresh: !values.keep,
    ports: values['random-ports'] ? FREE_PORTS : undefined,
    log: (line) => console.log(`  ${line}`),
  });
  let stopped = false;
  let dashboard: RunningDashboard | undefined;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await dashboard?.stop();
    await pipeline.stop();
  };
  try {
    const { endpoints } = pipeline.stack;
    // The analysts' page: the stream processor's live count, and once reconciled the lines each sink held then (named
    // with the time: counting DynamoDB and the archive again on every refresh would load the emulators for a page).
    const reconciled: { sinks: SinkCount[] } = { sinks: [] };
    const liveSinks = async (): Promise<SinkCount[]> => [
      { sink: 'Stream processor: invoices processed', count: pipeline.eventSource.stats().invoicesDelivered, unit: 'invoices' },
      ...reconciled.sinks,
    ];
    dashboard = await startLocalDashboard({ dir, s3: pipeline.stack.clients.s3, port: values['random-ports'] ? 0 : undefined, sinks: liveSinks });
    const serving = `POST ${pipeline.api.url}/invoices, GET ${pipeline.api.url}/invoices/{invoiceNo} and /customers/{customerId}/invoices (API keys in ${join(dir, 'endpoints.json')}), psql "${endpoints.warehouse.url}", dashboard ${dashboard.url}. Ctrl-C to stop.`;
    if (values['no-replay']) {
      console.log(`serving with no replay: ${serving}`);
      await untilInterrupted();
      await stop();
      return 0;
    }
    console.log(`pipeline up in ${seconds(started)}: API ${pipeline.api.url}/invoices, dashboard ${dashboard.url}, endpoints and API key in ${join(dir, 'endpoints.json')}`);

    // The batch path first: a dump through the dumps bucket's incoming/, its trigger and the local Glue job.
    const dump = values['no-dump'] ? undefined : await loadDump(pipeline, values.dump);
    // On a thread of its own, as point-of-sale systems post from their own machines. It also tallies what the warehouse
    // must hold: every line it reads, then the dump's, each (invoiceNo, lineNo) once (where both sent a line, the
    // stream's counts: its version is newer). The source is read once.
    const replayStarted = performance.now();
    const { summary: replayed, union } = await replayInWorker(
      {
        source: values.source,
        url: pipeline.api.url,
        apiKey: pipeline.api.key,
        stores: Number(values.stores),
        batchSize: Number(values['batch-size']),
        concurrency: Number(values.concurrency),
      },
      { union: { dumps: dump ? [dump.path] : [] } },
    );
    console.log(`replayed in ${seconds(replayStarted)}:\n${formatSummary(replayed)}`);

    const settleStarted = performance.now();
    const progress = setInterval(() => {
      const stats = pipeline.eventSource.stats();
      // Invoices, not records: a post retried after a lost reply puts the same invoice on the stream twice.
      console.log(`  processing: ${stats.invoicesDelivered.toLocaleString('en-GB')} of ${replayed.accepted.invoices.toLocaleString('en-GB')} invoices landed (${stats.recordsDelivered.toLocaleString('en-GB')} records, ${stats.invocations} invocations, ${stats.retries} retries)`);
    }, 10_000);
    await pipeline.settle().finally(() => clearInterval(progress));
    console.log(`stream processed, Firehose delivered and warehouse merged ${seconds(settleStarted)} after the replay`);

    const outputs = stageOutputs(endpoints);
    const readStarted = performance.now();
    const sameRecords = new SharedRecords(); // the stream and the archive hold the same records: each validated once
    const [stream, dynamodb, archive, warehouse, badRecords] = await Promise.all([
      readStreamTotals(pipeline.stack.clients.kinesis, outputs.streamName, sameRecords),
      readDynamoDbTotals(pipeline.stack.clients.dynamodb, outputs.tableName),
      readArchiveTotals(pipeline.stack.clients.s3, outputs.archiveBucket, undefined, sameRecords),
      readWarehouseTotals(pipeline.stack.warehouse),
      countBadRecords(pipeline.stack.clients.s3, outputs.archiveBucket),
    ]);
    console.log(`every sink read back (stream, DynamoDB, raw archive, warehouse, bad records) in ${seconds(readStarted)}`);
    // The reference is what the source holds, as read and accepted by the replay (which accounts for every row).
    const reference = replayed.totals;
    if (!union) throw new Error('the replay returned no union tally');
    const expected = { totals: union.totals, inBoth: union.repeated, dumpTotals: union.dumps[0] };
    const batch = dump ? await batchFilesTotals(pipeline.stack.warehouse, [dump.key]) : undefined;
    const checks: SinkCheck[] = [
      { sink: 'Kinesis stream', totals: stream, ok: sameTotals(reference, stream) && !stream.invalidRecords, note: stream.duplicateLines ? `${stream.duplicateLines} re-sent lines collapse downstream` : '' },
      { sink: 'DynamoDB', totals: dynamodb, ok: sameTotals(reference, dynamodb), note: '' },
      { sink: 'S3 raw archive', totals: archive, ok: sameTotals(reference, archive), note: '' },
      {
        sink: 'warehouse',
        totals: warehouse,
        ok: sameTotals(expected.totals, warehouse) && warehouse.staged === 0 && (!dump || (batch?.files === 1 && batch.linesRecorded === expected.dumpTotals?.lines)),
        note: [dump ? 'source + dump, each line once' : '', warehouse.staged ? `${warehouse.staged} rows still staged` : ''].filter(Boolean).join('; '),
      },
    ];
    const at = new Date().toISOString().slice(11, 19);
    reconciled.sinks = checks.map((c) => ({ sink: `${c.sink}: lines at the reconciliation (${at} UTC)`, count: c.totals?.lines ?? 0, unit: 'lines' }));
    const ok = checks.every((c) => c.ok) && replayed.badRows === 0 && badRecords === 0 && pipeline.failedBatches.length === 0 && isComplete(replayed);

    console.log(`\nreconciliation (${replayed.rows.toLocaleString('en-GB')} source rows, ${replayed.badRows} bad):`);
    printChecks(reference, checks);
    if (dump) {
      console.log(`  stream path: ${reference.lines.toLocaleString('en-GB')} lines of ${reference.invoices.toLocaleString('en-GB')} invoices replayed from ${values.source}`);
      console.log(`  batch path: ${dump.key} loaded ${expected.dumpTotals?.lines.toLocaleString('en-GB')} lines of ${expected.dumpTotals?.invoices.toLocaleString('en-GB')} invoices (revenue ${expected.dumpTotals?.revenue}), ${batch?.rejected ?? 0} rejected; ${expected.inBoth.toLocaleString('en-GB')} of its lines the stream also sent`);
      console.log(`  warehouse must hold the union, each line once: ${expected.totals.lines.toLocaleString('en-GB')} lines, ${expected.totals.invoices.toLocaleString('en-GB')} invoices, revenue ${expected.totals.revenue}`);
    }
    console.log(`  bad records set aside: ${badRecords}; batches sent on-failure: ${pipeline.failedBatches.length}`);
    console.log(`\n${ok ? 'RECONCILED' : 'NOT RECONCILED'}: every sink ${ok ? 'holds' : 'does not hold'} exactly ${dump ? 'its sources (the warehouse: source and dump, each line once)' : 'the source'}, in ${seconds(started)} in all.`);
    await writeFile(join(dir, 'reconciliation.json'), `${JSON.stringify({ ok, replayed, dump: dump && { ...dump, totals: expected.dumpTotals, loaded: batch }, union: { totals: expected.totals, inBoth: expected.inBoth }, checks, badRecords, failedBatches: pipeline.failedBatches.length }, null, 2)}\n`);

    if (values.exit) {
      await stop();
      return ok ? 0 : 1;
    }
    console.log(`\nstill serving: ${serving}`);
    await untilInterrupted();
    await stop();
    return ok ? 0 : 1;
  } catch (error) {
    await stop();
    throw error;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
