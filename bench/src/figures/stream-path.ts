import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { chunkWithin } from '@invoice-pipeline/retry';
import { readArchiveTotals, readDynamoDbTotals, readWarehouseTotals, stageOutputs, type LocalPipeline } from '@invoice-pipeline/local-stack';
import { replayInWorker, storeIdFor } from '@invoice-pipeline/pos-simulator';
import { invoiceItems } from '@invoice-pipeline/stream-processor/src/invoices/dynamodb-items';
import { putItems } from '@invoice-pipeline/stream-processor/src/invoices/write-dynamodb';
import { normaliseInvoice, recordVersion, type NormalisedLine } from '@invoice-pipeline/transactions';
import { toWarehouseRow, WAREHOUSE_COLUMNS, WAREHOUSE_TABLES } from '@invoice-pipeline/warehouse';
import { BUNDLED_DATASET, groupInvoices, readSource, type Totals } from '@invoice-pipeline/transactions/files';
import { grouped, perSecond, type Bench, type Figure } from '../figure';
import { samplePeakMemory } from '../memory';

/** The replay settings of `pnpm start`, so this figure is the default run's streaming path. */
export const REPLAY_SETTINGS = { stores: 8, batchSize: 100, concurrency: 4 } as const;
const SMOKE_ROWS = 20_000;
const REQUEST_TIMEOUT_MS = 180_000;
/** Ceiling: DynamoDB BatchWriteItem calls in flight, and warehouse rows per COPY (one transaction each). */
const CEILING_DYNAMODB_CONCURRENCY = 16;
const CEILING_COPY_ROWS = 50_000;

const gzipAsync = promisify(gzip);
const sameTotals = (a: Totals, b: Totals) => a.lines === b.lines && a.invoices === b.invoices && a.revenue === b.revenue;

/** An invoice as posted (the raw archive keeps its record) and as its lines land in DynamoDB and the warehouse. */
interface CeilingInvoice {
  record: string;
  lines: NormalisedLine[];
}

/** Every invoice of the source, read once into memory (outside the timed part of the ceiling). */
async function readInvoices(limitRows: number | undefined, stores: number): Promise<CeilingInvoice[]> {
  let rows = 0;
  async function* limited() {
    for await (const row of readSource(BUNDLED_DATASET)) {
      if (limitRows !== undefined && rows >= limitRows) return;
      rows += 1;
      yield row;
    }
  }
  const invoices: CeilingInvoice[] = [];
  for await (const item of groupInvoices(limited(), { storeIdFor: (invoiceNo) => storeIdFor(invoiceNo, stores) })) {
    if (item.kind === 'invoice') invoices.push({ record: JSON.stringify(item.invoice), lines: normaliseInvoice(item.invoice) });
  }
  return invoices;
}

/** One version for every invoice of the ceiling run: each is written once. */
const CEILING_VERSION = recordVersion('1');

/** The raw archive's objects: what its Firehose writes, records back to back, up to its buffer size, gzip. */
const ARCHIVE_OBJECT_BYTES = 5 * 2 ** 20;
/** Where the ceiling's archive objects go, beside (never among) the stream path's. */
const CEILING_ARCHIVE_PREFIX = 'bench-ceiling/raw/';

/**
 * The raw-sink ceiling: the same invoices written straight into the three emulated sinks at once, with no API,
 * Kinesis, Lambda or Firehose: DynamoDB items by BatchWriteItem (the stream processor's own item layout and writer,
 * many calls in flight), warehouse rows by in-process COPY into staging plus the same MERGE, and the raw archive's
 * gzip objects of the records as posted, put into its bucket.
 */
async function writeStraightToSinks(pipeline: LocalPipeline, invoices: CeilingInvoice[]): Promise<number> {
  const { tableName, archiveBucket } = stageOutputs(pipeline.stack.endpoints);
  const dynamodb = DynamoDBDocumentClient.from(pipeline.stack.clients.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const items = invoices.flatMap((invoice) => invoiceItems(invoice.lines, CEILING_VERSION));
  const started = performance.now();
  const toDynamoDb = async () => {
    const calls = chunkWithin(items, { maxCount: 25 });
    const worker = async () => {
      for (let call = calls.shift(); call; call = calls.shift()) await putItems(call, { dynamodb, tableName });
    };
    await Promise.all(Array.from({ length: CEILING_DYNAMODB_CONCURRENCY }, worker));
  };
  const toWarehouse = async () => {
    const columns = WAREHOUSE_COLUMNS.map((column) => column.name);
    const rows = invoices.flatMap((invoice) => invoice.lines);
    for (let at = 0; at < rows.length; at += CEILING_COPY_ROWS) {
      const chunk = rows.slice(at, at + CEILING_COPY_ROWS).map((line) => toWarehouseRow(line, CEILING_VERSION) as unknown as Record<string, unknown>);
      await pipeline.stack.warehouse.copyRows(WAREHOUSE_TABLES.staging, columns, chunk);
    }
    await pipeline.stack.warehouse.mergeStaged();
  };
  const toArchive = async () => {
    const objects = chunkWithin(invoices, { maxBytes: ARCHIVE_OBJECT_BYTES }, (invoice) => invoice.record.length);
    for (const [index, object] of objects.entries()) {
      const Body = await gzipAsync(object.map((invoice) => invoice.record).join(''));
      await pipeline.stack.clients.s3.send(new PutObjectCommand({ Bucket: archiveBucket, Key: `${CEILING_ARCHIVE_PREFIX}${String(index).padStart(6, '0')}.gz`, Body }));
    }
  };
  await Promise.all([toDynamoDb(), toWarehouse(), toArchive()]);
  return performance.now() - started;
}

/**
 * The streaming path end to end, on the whole dataset (a slice in smoke runs): from the first POST of the replay
 * (`pnpm start`'s settings) to the last line visible in DynamoDB and merged in the warehouse, with the peak resident
 * memory of the whole local run meanwhile. Then every sink is reconciled with what was accepted, and the same lines
 * are written straight into the sinks for the ceiling.
 */
export const streamPath: Bench = {
  id: 'stream-path',
  needs: 'pipeline',
  async run({ smoke, log, pipeline, startupSeconds }) {
    const limitRows = smoke ? SMOKE_ROWS : undefined;
    const memory = samplePeakMemory();
    const started = performance.now();
    let lastReport = started;
    // On a thread of its own, as `pnpm start` replays.
    const { summary: replayed } = await replayInWorker(
      {
        url: pipeline.api.url,
        apiKey: pipeline.api.key,
        source: BUNDLED_DATASET,
        limitRows,
        ...REPLAY_SETTINGS,
        // A request the API answers after the client gave up is retried and sent again: on a crowded machine a short
        // timeout turns slowness into a storm of retries. Generous here; the replay's own default elsewhere.
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
      },
      {
        onProgress(progress) {
          if (performance.now() - lastReport < 10_000) return;
          lastReport = performance.now();
          log(`stream path: ${grouped(progress.accepted.lines)} lines accepted, ${progress.requests} requests (${progress.retried} retried), ${pipeline.eventSource.stats().invoicesDelivered} invoices processed`);
        },
      },
    );
    const replayMs = performance.now() - started;
    log(`stream path: replayed ${grouped(replayed.accepted.lines)} lines in ${(replayMs / 1000).toFixed(1)} s; waiting for the sinks`);
    if (replayed.failed.invoices || replayed.rejected.invoices) {
      throw new Error(`stream path: the replay was not accepted whole: ${JSON.stringify({ failed: replayed.failed, rejected: replayed.rejected })}\n--- ingest output ---\n${pipeline.ingest.output()}`);
    }
    await pipeline.settle();
    const endToEndMs = performance.now() - started;
    const peak = await memory.stop();
    log(`stream path: every sink settled ${(endToEndMs / 1000).toFixed(1)} s after the first POST`);

    const [dynamodb, warehouse] = await Promise.all([
      readDynamoDbTotals(pipeline.stack.clients.dynamodb, stageOutputs(pipeline.stack.endpoints).tableName),
      readWarehouseTotals(pipeline.stack.warehouse),
    ]);
    const reconciled = sameTotals(replayed.totals, dynamodb) && sameTotals(replayed.totals, warehouse) && replayed.failed.lines === 0;
    if (!reconciled) log(`stream path: sinks do not hold what was accepted: DynamoDB ${dynamodb.lines}, warehouse ${warehouse.lines}, accepted ${replayed.accepted.lines} lines`);

    log('stream path ceiling: reading the same invoices, then writing them straight into DynamoDB, the warehouse and the raw archive');
    const invoices = await readInvoices(limitRows, REPLAY_SETTINGS.stores);
    const lines = invoices.reduce((sum, invoice) => sum + invoice.lines.length, 0);
    const ceilingMs = await writeStraightToSinks(pipeline, invoices);
    const archived = await readArchiveTotals(pipeline.stack.clients.s3, stageOutputs(pipeline.stack.endpoints).archiveBucket, CEILING_ARCHIVE_PREFIX);
    if (archived.lines !== lines) log(`stream path ceiling: the raw archive holds ${archived.lines} of the ${lines} lines written`);

    const rate = perSecond(replayed.accepted.lines, endToEndMs);
    const ceilingRate = perSecond(lines, ceilingMs);
    const figures: Figure[] = [
      {
        id: 'stream-path.seconds',
        label: `stream path end to end (${smoke ? `${grouped(SMOKE_ROWS)} rows` : 'whole dataset'})`,
        value: endToEndMs / 1000,
        unit: 's',
        better: 'lower',
        detail: `replay ${(replayMs / 1000).toFixed(1)} s, then sinks ${((endToEndMs - replayMs) / 1000).toFixed(1)} s; ${reconciled ? 'reconciled' : 'NOT reconciled'}`,
        ceiling: { label: 'straight into the sinks', value: ceilingMs / 1000 },
        target: smoke ? undefined : { text: '< 60 s', met: endToEndMs < 60_000 },
      },
      {
        id: 'stream-path.lines-per-second',
        label: 'stream path rate',
        value: rate,
        unit: 'lines/s',
        better: 'higher',
        detail: `${grouped(replayed.accepted.lines)} lines, ${grouped(replayed.accepted.invoices)} invoices, ${replayed.requests} requests`,
        ceiling: { label: 'straight into the sinks', value: ceilingRate, detail: `${grouped(lines)} lines (raw archive: ${grouped(archived.lines)})` },
        target: { text: '>= 1/2 of ceiling', met: rate >= ceilingRate / 2 },
      },
      {
        id: 'memory.peak-mb',
        label: 'peak memory, whole local run, during the replay',
        value: peak.proportional / 2 ** 20,
        unit: 'MiB',
        better: 'lower',
        // Up to round 8 the figure was the RSS sum, which counts Node's own code and libraries once per process: both
        // are shown.
        detail: `resident, this process and every process it started, each page once (sum of PSS); the sum of their RSS, shared pages once per process: ${grouped(Math.round(peak.residentSum / 2 ** 20))} MiB; at the peak (${((peak.peakAtMs ?? 0) / 1000).toFixed(0)} s after the first POST): ${peak.byProcess
          .filter((share) => share.proportional >= 2 ** 20)
          .map((share) => `${share.name} ${grouped(Math.round(share.proportional / 2 ** 20))}`)
          .join(', ')} MiB`,
        target: { text: '< 2 GB', met: peak.proportional < 2e9 },
      },
      {
        id: 'pipeline.startup-seconds',
        label: 'offline pipeline start-up',
        value: startupSeconds,
        unit: 's',
        better: 'lower',
        detail: 'emulators, provisioning, two serverless-offline services',
      },
    ];
    return figures;
  },
};
