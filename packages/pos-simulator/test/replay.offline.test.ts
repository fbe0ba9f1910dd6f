import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createLocalApiKey, startOffline, type RunningOffline } from '@invoice-pipeline/local-stack';
import { startTestKinesis, type TestKinesis } from '@invoice-pipeline/local-stack/testing';
import { normaliseInvoice, parseInvoice, type Invoice } from '@invoice-pipeline/transactions';
import { BUNDLED_SAMPLES, groupInvoices, readSource, summariseSource, Tally } from '@invoice-pipeline/transactions/files';
import { isComplete, replay, storeIdFor, type ReplaySummary } from '../src';

/** The simulator against the real ingest service (serverless-offline) and a real local stream (kinesalite). */

const STREAM = 'invoice-ingest-local-invoices';
const SAMPLE = BUNDLED_SAMPLES.kaggleHead;
const CLI = resolve(__dirname, '../src/cli.ts');
const TSX = resolve(__dirname, '../../../node_modules/.bin/tsx');
const run = promisify(execFile);
const apiKey = createLocalApiKey();

let kinesis: TestKinesis;
let offline: RunningOffline | undefined;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'replay-offline-'));
  kinesis = await startTestKinesis();
  await kinesis.createStream(STREAM, 2);
  offline = await startOffline({
    service: 'ingest',
    env: kinesis.environment,
    params: { localApiKey: apiKey },
  });
}, 120_000);

afterAll(async () => {
  await offline?.stop();
  await kinesis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function invoicesInStream(): Promise<Invoice[]> {
  return (await kinesis.readAll(STREAM)).map((record) => {
    const parsed = parseInvoice(JSON.parse(record.data));
    if (!parsed.ok) throw new Error(`record ${record.partitionKey} is not an invoice`);
    expect(record.partitionKey).toBe(parsed.value.invoiceNo);
    return parsed.value;
  });
}

describe('replay against serverless-offline', () => {
  it('puts every invoice of the sample in the stream, exactly as the source has it, and the summary reconciles', async () => {
    const summary = await replay({ url: offline?.url as string, apiKey, source: SAMPLE, stores: 4, batchSize: 10, concurrency: 3 });
    const reference = await summariseSource(SAMPLE);

    expect(isComplete(summary)).toBe(true);
    expect(summary).toMatchObject({ rows: reference.rows, badRows: 0, unaccounted: 0, retried: 0 });
    expect(summary.totals).toEqual(reference.totals);

    // The stream holds each source invoice once, as grouped from the source, attributed to its store.
    const expected: Invoice[] = [];
    for await (const item of groupInvoices(readSource(SAMPLE), { storeIdFor: (invoiceNo) => storeIdFor(invoiceNo, 4) })) {
      if (item.kind === 'invoice') expected.push(item.invoice);
    }
    const inStream = await invoicesInStream();
    const byNumber = (a: Invoice, b: Invoice) => a.invoiceNo.localeCompare(b.invoiceNo);
    expect(inStream.sort(byNumber)).toEqual(expected.sort(byNumber));
    expect(new Tally().addAll(inStream.flatMap(normaliseInvoice)).totals()).toEqual(reference.totals);
  }, 60_000);

  it('pnpm replay finds the API in endpoints.json and exits 0 with a reconciled summary', async () => {
    const endpoints = join(dir, 'endpoints.json');
    await writeFile(endpoints, JSON.stringify({ stage: 'local', api: { url: offline?.url, key: apiKey } }));
    const { stdout } = await run(TSX, [CLI, SAMPLE, '--endpoints', endpoints, '--limit', '300', '--stores', '2', '--batch-size', '25', '--json'], { cwd: dir });
    const summary = JSON.parse(stdout) as ReplaySummary;
    expect(summary).toMatchObject({ rows: 300, unaccounted: 0, accepted: { lines: 300 }, rejected: { invoices: 0 }, failed: { invoices: 0 } });
  }, 60_000);

  it('pnpm replay with a wrong key stops, says why, and exits 1', async () => {
    const error = (await run(TSX, [CLI, SAMPLE, '--url', offline?.url as string, '--api-key', `${apiKey}0`, '--no-progress'], { cwd: dir }).catch(
      (caught: unknown) => caught,
    )) as { code?: number; stdout?: string };
    expect(error.code).toBe(1);
    expect(error.stdout).toMatch(/stopped\s+the API refused the key \(HTTP 403\)/);
    expect(error.stdout).toMatch(/reconciled\s+yes/);
  }, 60_000);
});
