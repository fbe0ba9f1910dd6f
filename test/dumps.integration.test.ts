import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { batchFilesTotals, deliverDumps, localGlueClient } from '@invoice-pipeline/local-glue';
import { readWarehouseTotals, type LocalPipeline } from '@invoice-pipeline/local-stack';
import { startTestPipeline } from '@invoice-pipeline/local-stack/testing';
import { isComplete, replay } from '@invoice-pipeline/pos-simulator';
import { formatMillis, normaliseInvoice, parseMillis } from '@invoice-pipeline/transactions';
import { BUNDLED_DATASET, groupInvoices, readSource, Tally } from '@invoice-pipeline/transactions/files';
import { WAREHOUSE_TABLES } from '@invoice-pipeline/warehouse';

/** Lines, invoices and exact revenue of one calendar month (of each line's invoice date). */
interface MonthTotals {
  month: string;
  lines: number;
  invoices: number;
  revenue: string;
}

/** The source's months, computed from the file by the transactions package's own reader, grouping and normalisation. */
async function sourceByMonth(path: string): Promise<MonthTotals[]> {
  const months = new Map<string, Tally>();
  for await (const item of groupInvoices(readSource(path))) {
    if (item.kind !== 'invoice') throw new Error(`the slice has a bad row: ${JSON.stringify(item)}`);
    for (const line of normaliseInvoice(item.invoice)) {
      const month = line.invoiceDate.slice(0, 7);
      const tally = months.get(month) ?? new Tally();
      months.set(month, tally);
      tally.add(line);
    }
  }
  return [...months.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([month, tally]) => {
    const { lines, invoices, revenue } = tally.totals();
    return { month, lines, invoices, revenue };
  });
}

/** The warehouse's months, in SQL over invoice_lines (what analysts read). */
async function warehouseByMonth(pipeline: LocalPipeline): Promise<MonthTotals[]> {
  const rows = await pipeline.stack.warehouse.query<{ month: string; lines: number; invoices: number; revenue: string }>(
    `SELECT to_char(invoice_date, 'YYYY-MM') AS month, count(*)::int AS lines, count(DISTINCT invoice_no)::int AS invoices, sum(line_total)::text AS revenue
     FROM ${WAREHOUSE_TABLES.lines} GROUP BY 1 ORDER BY 1`,
  );
  return rows.map((row) => ({ ...row, revenue: formatMillis(parseMillis(row.revenue) ?? 0n) }));
}

/** Every column but where a line came from (store, version, load time): what the stream and a dump agree on. */
const linesOf = (pipeline: LocalPipeline, invoiceNos: readonly string[]) =>
  pipeline.stack.warehouse.query(
    `SELECT invoice_no, line_no, invoice_type, to_char(invoice_date, 'YYYY-MM-DD"T"HH24:MI:SS') AS invoice_date, customer_id, country,
       stock_code, description, quantity, unit_price::text AS unit_price, line_total::text AS line_total
     FROM ${WAREHOUSE_TABLES.lines} WHERE invoice_no = ANY($1) ORDER BY invoice_no, line_no`,
    [invoiceNos],
  );

/**
 * The batch path on the whole local pipeline: dumps go into the dumps bucket's incoming/, the bucket's trigger starts
 * the local Glue job, the job loads the warehouse; the stream path runs beside it (POST /invoices, Kinesis, the stream
 * processor, Firehose, the staged merge) into the same table.
 */
describe('dumps on the local pipeline', () => {
  let pipeline: LocalPipeline & { dir: string };
  let dataset: string[];
  let header: string;

  beforeAll(async () => {
    pipeline = await startTestPipeline();
    [header = '', ...dataset] = gunzipSync(await readFile(BUNDLED_DATASET)).toString('utf8').trimEnd().split('\n');
  }, 300_000);
  afterAll(async () => {
    await pipeline?.stop();
  }, 120_000);

  /** Rows [from, to) of the bundled dataset (1-based data rows) as a dump file of that name. */
  async function slice(name: string, from: number, to: number): Promise<string> {
    const path = join(pipeline.dir, name);
    await writeFile(path, `${[header, ...dataset.slice(from - 1, to - 1)].join('\n')}\n`);
    return path;
  }
  const deliver = async (path: string) => {
    const { endpoints } = pipeline.stack;
    const glue = localGlueClient({ endpoint: endpoints.glue ?? '', region: endpoints.region, credentials: endpoints.credentials });
    try {
      const names = endpoints.outputs['batch-loader'] ?? {};
      const [delivery] = await deliverDumps({ s3: pipeline.stack.clients.s3, glue, bucket: names.DumpsBucketName ?? '', jobName: names.GlueJobName ?? '', paths: [path] });
      expect([delivery?.state, delivery?.error]).toEqual(['SUCCEEDED', undefined]);
      return delivery?.key ?? '';
    } finally {
      glue.destroy();
    }
  };
  const stream = async (path: string) => {
    const replayed = await replay({ url: pipeline.api.url, apiKey: pipeline.api.key, source: path, stores: 4, batchSize: 50, concurrency: 2 });
    expect(isComplete(replayed) && replayed.failed.invoices === 0 && replayed.rejected.invoices === 0).toBe(true);
    await pipeline.settle();
    return replayed;
  };
  const invoiceNosOf = async (path: string) => {
    const numbers = new Set<string>();
    for await (const row of readSource(path)) if (row.ok) numbers.add(row.row.invoiceNo);
    return [...numbers];
  };

  // Three real months (December 2010 to February 2011, 60,000 rows), the first thing in an empty warehouse. The whole
  // dataset as one dump is loaded, reconciled and loaded again by `pnpm bench` (batch-path).
  it('a multi-month dump reconciles with the source month by month (rows, invoices, exact revenue); loading it again changes nothing', async () => {
    const path = await slice('2010-12-to-2011-02.csv', 30_001, 90_001);
    const expected = await sourceByMonth(path);
    expect(expected.map((m) => m.month)).toEqual(['2010-12', '2011-01', '2011-02']);

    const key = await deliver(path);
    expect(await warehouseByMonth(pipeline)).toEqual(expected);
    const recorded = await batchFilesTotals(pipeline.stack.warehouse, [key]);
    expect(recorded).toMatchObject({ files: 1, rejected: 0, linesRecorded: 60_000, lines: 60_000 });

    await deliver(path);
    expect(await warehouseByMonth(pipeline)).toEqual(expected);
    expect(await batchFilesTotals(pipeline.stack.warehouse, [key])).toEqual(recorded);
    expect((await readWarehouseTotals(pipeline.stack.warehouse)).staged).toBe(0);
  }, 900_000);

  it('rows the stream delivered, then the same rows as a dump, change no total; a dump, then the same rows through the stream, neither', async () => {
    const before = await readWarehouseTotals(pipeline.stack.warehouse);
    // Stream first, then the dump: the dump's lines of invoices the stream landed are dropped by the one MERGE.
    const streamFirst = await slice('stream-then-dump.csv', 200_001, 201_501);
    const streamed = await stream(streamFirst);
    const afterStream = await readWarehouseTotals(pipeline.stack.warehouse);
    expect(afterStream.lines).toBe(before.lines + streamed.totals.lines);
    const streamFirstInvoices = await invoiceNosOf(streamFirst);
    const streamLines = await linesOf(pipeline, streamFirstInvoices);
    expect(streamLines).toHaveLength(1_500);
    await deliver(streamFirst);
    expect(await readWarehouseTotals(pipeline.stack.warehouse)).toEqual(afterStream);
    expect(await linesOf(pipeline, streamFirstInvoices)).toEqual(streamLines);

    // The dump first, then the stream: the stream's newer version replaces the dump's lines, key for key.
    const dumpFirst = await slice('dump-then-stream.csv', 300_001, 301_501);
    await deliver(dumpFirst);
    const afterDump = await readWarehouseTotals(pipeline.stack.warehouse);
    expect(afterDump.lines).toBe(afterStream.lines + 1_500);
    const dumpFirstInvoices = await invoiceNosOf(dumpFirst);
    const dumpLines = await linesOf(pipeline, dumpFirstInvoices);
    await stream(dumpFirst);
    expect(await readWarehouseTotals(pipeline.stack.warehouse)).toEqual(afterDump);
    expect(await linesOf(pipeline, dumpFirstInvoices)).toEqual(dumpLines);
  }, 900_000);
});
