#!/usr/bin/env tsx
import { parseArgs } from 'node:util';
import { BUNDLED_DATASET, type TextEncodingMode } from '@invoice-pipeline/transactions/files';
import cliProgress from 'cli-progress';
import { DEFAULT_ENDPOINTS_FILE, readApiTarget } from './endpoints';
import { estimateRows } from './estimate-rows';
import { formatSummary } from './format';
import { isComplete, replay, type ReplayOptions, type ReplayProgress } from './replay';

const USAGE = `usage: pnpm replay [SOURCE] [options]

Replays invoices to the ingest API (POST /invoices) as many POS stores would.
SOURCE is a CSV, a .csv.gz or a folder of them (read in name order); default: the bundled dataset.

  --url URL            API base URL (default: api.url of the endpoints file, or $INGEST_API_URL)
  --api-key KEY        API key sent as x-api-key (default: api.key of the endpoints file, or $INGEST_API_KEY)
  --endpoints FILE     endpoints file of the local stack (default: ${DEFAULT_ENDPOINTS_FILE})
  --stores N           simulated stores the invoices are spread over (default 10)
  --batch-size N       invoices per request, 1-500 (default 100)
  --concurrency N      requests in flight (default 4)
  --speed X            replay X times faster than the original trading (3600: an hour per second);
                       default: as fast as possible
  --shards N           stay within a deployed stream of N shards (N x 1,000 records/s and N MiB/s)
  --rate N             at most N invoices (stream records) per second
  --limit N            read only the first N rows of the source
  --one-by-one         one request per CSV row, each a one-line invoice numbered <invoiceNo><4-digit line>;
                       for benchmarks only (it does not send the source's invoices)
  --encoding MODE      auto, utf8 or latin1 (default auto)
  --json               print the summary as JSON
  --no-progress        no progress bar (it is only shown on a terminal anyway)
  -h, --help

Exit status: 0 when every row read is accepted (or is a bad source row, reported); 1 when rows were rejected,
failed, or are unaccounted for, or the replay was stopped; 2 on a usage error.`;

class UsageError extends Error {}

function positive(name: string, text: string | undefined, integer = true): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(value > 0) || (integer && !Number.isInteger(value))) throw new UsageError(`--${name} must be a positive ${integer ? 'whole ' : ''}number, not ${JSON.stringify(text)}`);
  return value;
}

function progressBar(total: number | undefined): { update(progress: ReplayProgress): void; stop(): void } {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      hideCursor: true,
      fps: 5,
      format: `{bar} {percentage}% | {value}/{total} rows | {ips} invoices/s | {lps} lines/s | retries {retried} | errors {errors}`,
    },
    cliProgress.Presets.shades_classic,
  );
  const payload = (progress?: ReplayProgress) => {
    const seconds = Math.max((progress?.elapsedMs ?? 0) / 1000, 0.001);
    return {
      ips: Math.round((progress?.accepted.invoices ?? 0) / seconds),
      lps: Math.round((progress?.accepted.lines ?? 0) / seconds),
      retried: progress?.retried ?? 0,
      errors: (progress?.rejected.invoices ?? 0) + (progress?.failed.invoices ?? 0),
    };
  };
  bar.start(total ?? 0, 0, payload());
  return {
    update: (progress) => {
      if (progress.rows > bar.getTotal()) bar.setTotal(progress.rows);
      bar.update(progress.rows, payload(progress));
    },
    stop: () => bar.stop(),
  };
}

function parseCommandLine() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        'api-key': { type: 'string' },
        endpoints: { type: 'string' },
        stores: { type: 'string' },
        'batch-size': { type: 'string' },
        concurrency: { type: 'string' },
        speed: { type: 'string' },
        shards: { type: 'string' },
        rate: { type: 'string' },
        limit: { type: 'string' },
        'one-by-one': { type: 'boolean', default: false },
        encoding: { type: 'string', default: 'auto' },
        json: { type: 'boolean', default: false },
        'no-progress': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function main(): Promise<number> {
  const { positionals, values } = parseCommandLine();
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`one SOURCE at most, got ${positionals.length}`);
  if (!['auto', 'utf8', 'latin1'].includes(values.encoding)) throw new UsageError(`--encoding must be auto, utf8 or latin1, not ${values.encoding}`);
  if (values['one-by-one'] && values['batch-size']) throw new UsageError('--one-by-one sends one row per request; --batch-size does not apply');

  let url = values.url ?? process.env.INGEST_API_URL;
  let apiKey = values['api-key'] ?? process.env.INGEST_API_KEY;
  if (!url || !apiKey) {
    const target = await readApiTarget(values.endpoints ?? DEFAULT_ENDPOINTS_FILE).catch((error: Error) => {
      throw new UsageError(error.message);
    });
    url ??= target.url;
    apiKey ??= target.key;
  }
  const shards = positive('shards', values.shards);
  const source = positionals[0] ?? BUNDLED_DATASET;
  const options: ReplayOptions = {
    url,
    apiKey,
    source,
    encoding: values.encoding as TextEncodingMode,
    stores: positive('stores', values.stores),
    batchSize: positive('batch-size', values['batch-size']),
    concurrency: positive('concurrency', values.concurrency),
    speed: positive('speed', values.speed, false),
    maxRecordsPerSecond: positive('rate', values.rate, false) ?? (shards ? shards * 1_000 : undefined),
    maxBytesPerSecond: shards ? shards * 1024 * 1024 : undefined,
    limitRows: positive('limit', values.limit),
    oneByOne: values['one-by-one'],
  };

  const controller = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    console.error('\nstopping: finishing the requests in flight (Ctrl-C again to quit at once)');
    controller.abort();
  });

  const showProgress = !values['no-progress'] && process.stderr.isTTY;
  let bar = showProgress ? progressBar(options.limitRows ?? (await estimateRows(source).catch(() => undefined))) : undefined;
  try {
    const summary = await replay({ ...options, signal: controller.signal, onProgress: bar?.update });
    bar?.stop();
    bar = undefined;
    console.log(values.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
    return isComplete(summary) ? 0 : 1;
  } finally {
    bar?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    if (error instanceof UsageError) console.error('run with --help for usage');
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
