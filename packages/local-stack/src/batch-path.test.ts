import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GlueClient } from '@aws-sdk/client-glue';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { batchFilesTotals, deliverDumps, rejectedKey } from '@invoice-pipeline/local-glue';
import { BUNDLED_SAMPLES, CSV_HEADER, summariseSource } from '@invoice-pipeline/transactions/files';
import { readWarehouseTotals } from './reconcile';
import { startTestStack } from './testing';

const run = promisify(execFile);
const awsCli = spawnSync('sh', ['-c', 'command -v aws']).status === 0;
if (!awsCli && process.env.CI !== 'true') console.warn('aws not installed: skipping the `aws s3 cp` check (apt-get install awscli)');
const itWithAwsCli = awsCli || process.env.CI === 'true' ? it : it.skip;

const HEADER = CSV_HEADER.join(',');
const row = (invoiceNo: string, stockCode: string, quantity: number | string, price: string) =>
  `${invoiceNo},${stockCode},ITEM ${stockCode},${quantity},2010-12-01 08:26:00,${price},17850.0,United Kingdom`;

/**
 * The batch path on the local stack, end to end: a dump put under incoming/ of the dumps bucket is found by the
 * bucket's trigger (S3 -> EventBridge rule -> startLoad's own code), which starts a run of the local Glue job, which
 * loads the warehouse and moves the file to processed/ (bad rows and refusals to rejected/).
 */
describe('dumps through the local stack', () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let glue: GlueClient;
  let dir: string;
  let bucket: string;
  let jobName: string;

  beforeAll(async () => {
    stack = await startTestStack();
    glue = new GlueClient({ region: stack.endpoints.region, credentials: stack.endpoints.credentials, endpoint: stack.endpoints.glue });
    dir = await mkdtemp(join(tmpdir(), 'batch-path-'));
    bucket = stack.endpoints.outputs['batch-loader']?.DumpsBucketName ?? '';
    jobName = stack.endpoints.outputs['batch-loader']?.GlueJobName ?? '';
  }, 240_000);
  afterAll(async () => {
    glue?.destroy();
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  const deliver = (...paths: string[]) => deliverDumps({ s3: stack.clients.s3, glue, bucket, jobName, paths });
  const filesTotals = (keys: string[]) => batchFilesTotals(stack.warehouse, keys);
  const keysUnder = async (prefix: string) => ((await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key);
  const text = async (key: string) => (await (await stack.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString('utf8')) ?? '';

  it('provisions the Glue job, database, classifier and crawler from batch-loader and names them in endpoints.json', () => {
    expect(stack.endpoints.glue).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(jobName).toBe('invoice-batch-loader-local-load-dump');
    expect(Object.values(stack.endpoints.resources['batch-loader'] ?? {}).map((r) => r.type)).toEqual(
      expect.arrayContaining(['AWS::S3::Bucket', 'AWS::Glue::Job', 'AWS::Glue::Database', 'AWS::Glue::Classifier', 'AWS::Glue::Crawler']),
    );
  });

  it('loads the Kaggle layout and a spreadsheet-dated .csv.gz exactly as the reader reads them; loading them again changes nothing', async () => {
    // The first 400 lines of the spreadsheet-rewritten tail sample, gzipped: its layout at a size CI can load twice
    // (the whole sample is loaded by dump-load.test.ts).
    const tailSlice = join(dir, 'tail-slice.csv.gz');
    const tailLines = gunzipSync(await readFile(BUNDLED_SAMPLES.spreadsheetTail)).subarray(0, 200_000).toString('latin1').split('\n').slice(0, 400);
    await writeFile(tailSlice, gzipSync(Buffer.from(`${tailLines.join('\n')}\n`, 'latin1')));
    const samples = [BUNDLED_SAMPLES.kaggleHead, tailSlice];
    const deliveries = await deliver(...samples);
    expect(deliveries.map((d) => [d.key, d.state, d.error])).toEqual([
      ['incoming/head-1071rows_kaggle-format_Kristina-A.csv', 'SUCCEEDED', undefined],
      ['incoming/tail-slice.csv.gz', 'SUCCEEDED', undefined],
    ]);
    const keys = deliveries.map((d) => d.key);
    expect(await keysUnder('incoming/')).toEqual([]);
    expect(await keysUnder('processed/')).toEqual(expect.arrayContaining(keys.map((k) => k.replace('incoming/', 'processed/'))));

    const source = await Promise.all(samples.map((path) => summariseSource(path)));
    const expected = { lines: source.reduce((n, s) => n + s.totals.lines, 0), invoices: source.reduce((n, s) => n + s.totals.invoices, 0) };
    const loaded = await filesTotals(keys);
    expect(loaded).toMatchObject({ files: 2, rejected: 0, linesRecorded: expected.lines, lines: expected.lines, invoices: expected.invoices });
    const warehouse = await readWarehouseTotals(stack.warehouse);

    expect((await deliver(...samples)).map((d) => d.state)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(await filesTotals(keys)).toEqual(loaded);
    expect(await readWarehouseTotals(stack.warehouse)).toEqual(warehouse);
  }, 300_000);

  it('refuses a dump with a wrong header, saying why in rejected/, and loads nothing of it', async () => {
    const before = await readWarehouseTotals(stack.warehouse);
    const path = join(dir, 'drifted.csv');
    await writeFile(path, [HEADER.replace('CustomerID', 'Customer ID'), row('900001', 'A', 1, '1.5')].join('\n'));
    const [delivery] = await deliver(path);
    expect(delivery).toMatchObject({ state: 'FAILED', error: expect.stringMatching(/missing CustomerID; unexpected "Customer ID"/) });
    expect(JSON.parse(await text(rejectedKey('incoming/drifted.csv', 'refused.json')))).toEqual({ file: 'incoming/drifted.csv', reason: expect.stringMatching(/refused: header/) });
    // A failed run leaves the dump where it arrived (in AWS the run's failure reaches the alarm topic).
    expect(await keysUnder('incoming/')).toEqual(['incoming/drifted.csv']);
    expect(await readWarehouseTotals(stack.warehouse)).toEqual(before);
  }, 120_000);

  it('sets garbage lines aside in rejected/ with file, line, field and reason, and loads the rest', async () => {
    const path = join(dir, 'garbage.csv');
    await writeFile(path, [HEADER, row('900002', 'A', 1, '1.5'), 'not,a,row', row('900002', 'B', 'two', '2.5'), row('900002', 'C', 3, '3.5'), ''].join('\n'));
    const [delivery] = await deliver(path);
    expect(delivery?.state).toBe('SUCCEEDED');
    const badRows = (await text(rejectedKey('incoming/garbage.csv', 'bad-rows.jsonl'))).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(badRows).toEqual([
      { file: 'incoming/garbage.csv', line: 3, field: '(row)', reason: expect.any(String), raw: 'not,a,row' },
      { file: 'incoming/garbage.csv', line: 4, field: 'Quantity', reason: expect.any(String), raw: expect.stringContaining('two') },
    ]);
    expect(await filesTotals(['incoming/garbage.csv'])).toEqual({ files: 1, linesRecorded: 2, rejected: 2, lines: 2, invoices: 1, revenue: '12.000' });
  }, 120_000);

  itWithAwsCli('loads a file copied with `aws s3 cp` into incoming/, as in AWS', async () => {
    const path = join(dir, 'copied.csv');
    await writeFile(path, [HEADER, row('900003', 'A', 2, '0.5'), ''].join('\n'));
    const { credentials, region, s3 } = stack.endpoints;
    const env = { ...process.env, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_DEFAULT_REGION: region };
    await run('aws', ['--endpoint-url', s3, 's3', 'cp', path, `s3://${bucket}/incoming/`], { env });
    // A functional check, not a speed one: on a loaded machine the trigger's poll and the Glue run can take a while.
    const deadline = Date.now() + 180_000;
    while (!(await keysUnder('processed/copied.csv')).length) {
      if (Date.now() > deadline) throw new Error('the copied dump was not loaded within 180 s');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(await filesTotals(['incoming/copied.csv'])).toEqual({ files: 1, linesRecorded: 1, rejected: 0, lines: 1, invoices: 1, revenue: '1.000' });
  }, 240_000);
});
