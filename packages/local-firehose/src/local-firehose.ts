import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { listen } from '@invoice-pipeline/local-emulators';
import { parseDeliveryStream, type Account, type DeliveryStreamConfig, type DeliveryStreamProperties } from './config';
import { createDeliveryStream, type DeliveryContext, type DeliveryStream, type DeliveryStreamStats, type FirehoseRecord } from './delivery-stream';
import { openJournal, type Journal } from './journal';
import { describeDeliveryStream } from './describe';
import { describeError, FirehoseError, invalidArgument } from './errors';
import { firehoseRequestListener, type FirehoseBackend, type PutRecordResult } from './http-api';
import { startKinesisSource, type KinesisSource, type StartingPosition } from './kinesis-source';
import { sleep } from '@invoice-pipeline/retry';

/** Local-only replacement of every stream's BufferingHints (AWS allows 1–128 MB and 0–900 s; any positive value works here). */
export interface BufferingOverride {
  intervalInSeconds?: number;
  sizeInMBs?: number;
}

export interface RetrySettings {
  /** First backoff delay, doubled per retry (default 1000). */
  baseDelayMs?: number;
  /** Cap of the backoff delay (default 30000). */
  maxDelayMs?: number;
  /** How long S3 writes are retried before the batch goes to the error output prefix (default 86400, as AWS). */
  s3DurationInSeconds?: number;
}

export interface LocalFirehoseOptions {
  s3: S3Client;
  /** Needed by KinesisStreamAsSource delivery streams. */
  kinesis?: KinesisClient;
  /** Port on 127.0.0.1 (default 0: the OS picks one; see `endpoint`). */
  port?: number;
  region?: string;
  accountId?: string;
  /**
   * Clock for the arrival time of DirectPut records, which names objects and evaluates prefixes. Records from a Kinesis
   * source keep their ApproximateArrivalTimestamp; retry windows use the monotonic clock.
   */
  now?: () => Date;
  buffering?: BufferingOverride;
  retry?: RetrySettings;
  kinesisSource?: {
    /** Where a new delivery stream starts reading its source (default LATEST, as AWS). */
    startingPosition?: StartingPosition;
    /** Pause between polls of every shard (default 1000, as AWS). */
    pollIntervalMs?: number;
  };
  /**
   * Where each delivery stream keeps its journal (records acknowledged and not yet settled) and its Kinesis source's
   * checkpoint. With it, PutRecord/PutRecordBatch answer only once the records are on disk, and a stream created again
   * under the same name takes back what was pending and resumes its source after the last record handed over.
   * Without it, nothing survives the process (tests that need no restart).
   */
  dataDir?: string;
  /** How long stop() waits for buffered and retrying batches before abandoning them (default 10000). */
  stopTimeoutMs?: number;
  /** Hears about retries, batches sent to the error output prefix and source errors (default: silent). */
  log?: (message: string) => void;
}

/** Makes PutRecordBatch answer some entries with an ErrorCode (and PutRecord fail), to test clients' resend logic. */
export interface PutFailureRule {
  /** Which records fail; every one by default. `index` is the position in the PutRecordBatch call. */
  match?: (record: { data: Buffer; index: number }) => boolean;
  /** How many records fail in all before the rule is used up (default: no limit). */
  times?: number;
  /** Default ServiceUnavailableException, with the message "Slow down." */
  errorCode?: 'ServiceUnavailableException' | 'InternalFailure';
  errorMessage?: string;
}

export interface StopReport {
  /** Every delivery stream ever created, by name (deleted ones included). */
  stats: Record<string, DeliveryStreamStats>;
  /** Records still in flight when stop gave up waiting: not delivered, not failed, shown rather than dropped silently. */
  inFlight: number;
}

export interface LocalFirehose {
  /** `http://127.0.0.1:<port>`, for FirehoseClient `endpoint` and `aws --endpoint-url`. */
  endpoint: string;
  region: string;
  /** Creates a delivery stream from CloudFormation Properties (or CreateDeliveryStream input); resolves to its ARN. */
  createDeliveryStream(name: string, properties: DeliveryStreamProperties): Promise<string>;
  /** Stops accepting records for it; what it holds is still delivered. */
  deleteDeliveryStream(name: string): Promise<void>;
  /** Reads the Kinesis sources up to their tips, sends every buffer now, and waits until all batches settle. */
  flush(name?: string): Promise<void>;
  stats(name: string): DeliveryStreamStats;
  injectPutFailures(name: string, rule?: PutFailureRule): void;
  clearPutFailures(name?: string): void;
  /** Reads the Kinesis sources to their tips, flushes (bounded by stopTimeoutMs), then stops pollers, timers and the HTTP server. */
  stop(): Promise<StopReport>;
  /** Ends at once as a crash would: nothing more is read, flushed or delivered (tests of what the journal keeps). */
  kill(): Promise<void>;
}

interface Entry {
  stream: DeliveryStream;
  /** Accepts records: journaled first when there is a journal (resolves once they are on disk). */
  accept(records: readonly FirehoseRecord[]): Promise<void>;
  journal?: Journal;
  source?: KinesisSource;
  createdAt: Date;
}

interface ActiveFailureRule extends PutFailureRule {
  remaining: number;
}

const defaultRetry = { baseDelayMs: 1000, maxDelayMs: 30_000, s3DurationInSeconds: 86_400 };
const defaultPollIntervalMs = 1000;
const defaultStopTimeoutMs = 10_000;
/** After the stop timeout, how long in-progress calls get to return. */
const abortGraceMs = 1000;

function checkNonNegative(value: number | undefined, name: string): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= 0)) throw new RangeError(`${name} must be a finite number >= 0`);
}

/** Resolves true when `work` settles within `ms`, false otherwise; leaves no timer behind. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  const timeout = new AbortController();
  const settled = await Promise.race([work.then(() => true), sleep(ms, timeout.signal).then(() => false)]);
  timeout.abort();
  return settled;
}

/** Starts the local Firehose: the JSON API on 127.0.0.1 and the delivery of every stream created through it. */
export async function startLocalFirehose(options: LocalFirehoseOptions): Promise<LocalFirehose> {
  const account: Account = { region: options.region ?? 'us-east-1', accountId: options.accountId ?? '000000000000' };
  const now = options.now ?? (() => new Date());
  const retry = { ...defaultRetry, ...options.retry };
  checkNonNegative(options.buffering?.intervalInSeconds, 'buffering.intervalInSeconds');
  checkNonNegative(options.buffering?.sizeInMBs, 'buffering.sizeInMBs');
  for (const [key, value] of Object.entries(retry)) checkNonNegative(value, `retry.${key}`);

  const streams = new Map<string, Entry>();
  // Deleted streams still deliver what they hold; stop() waits for them and stats() still answers for them.
  const deleted: Entry[] = [];
  const creating = new Set<string>();
  const failureRules = new Map<string, ActiveFailureRule>();
  const abort = new AbortController();
  let stopping: Promise<StopReport> | undefined;
  /** Appends to journals that accepted records wait for. */
  const journaling = new Set<Promise<unknown>>();

  const notFound = (name: string) => new FirehoseError('ResourceNotFoundException', `Firehose ${name} under account ${account.accountId} not found.`);
  const entryOf = (name: string) => {
    const entry = streams.get(name);
    if (!entry) throw notFound(name);
    return entry;
  };
  const allEntries = () => [...deleted, ...streams.values()];
  const liveOrDeleted = (name: string) => {
    const entry = streams.get(name) ?? deleted.findLast((candidate) => candidate.stream.config.name === name);
    if (!entry) throw notFound(name);
    return entry;
  };

  function deliveryContext(config: DeliveryStreamConfig, journal?: Journal): DeliveryContext {
    const hints = config.s3.bufferingHints;
    return {
      s3: options.s3,
      backoff: { baseDelayMs: retry.baseDelayMs, maxDelayMs: retry.maxDelayMs },
      s3RetryWindowMs: retry.s3DurationInSeconds * 1000,
      buffering: {
        intervalMs: (options.buffering?.intervalInSeconds ?? hints.intervalInSeconds) * 1000,
        sizeBytes: (options.buffering?.sizeInMBs ?? hints.sizeInMBs) * 1024 * 1024,
      },
      signal: abort.signal,
      log: options.log ?? (() => undefined),
      onSettled: journal ? (records) => journal.settle(records) : undefined,
    };
  }

  async function createStream(name: string, properties: unknown): Promise<string> {
    if (stopping) throw new FirehoseError('ServiceUnavailableException', 'The local Firehose is stopping.');
    if (streams.has(name) || creating.has(name)) {
      throw new FirehoseError('ResourceInUseException', `Firehose ${name} under accountId ${account.accountId} already exists`);
    }
    const config = parseDeliveryStream(name, properties, account);
    const kinesis = options.kinesis;
    if (config.source && !kinesis) throw invalidArgument('This local Firehose was started without a Kinesis client: KinesisStreamAsSource needs one.');
    creating.add(name);
    const journal = options.dataDir ? openJournal(options.dataDir, name, options.log) : undefined;
    try {
      const stream = createDeliveryStream(config, deliveryContext(config, journal));
      const accept = async (records: readonly FirehoseRecord[]) => {
        if (!journal) return stream.accept(records);
        // Being written to the journal: stop() waits for these before its last flush, so none lands in a closed buffer.
        const appending = journal.append(records);
        journaling.add(appending);
        try {
          stream.accept(await appending);
        } finally {
          journaling.delete(appending);
        }
      };
      // What was acknowledged before a restart and never settled is delivered now.
      if (journal && journal.pending.length > 0) stream.accept(journal.pending);
      let source: KinesisSource | undefined;
      if (config.source && kinesis) {
        try {
          source = await startKinesisSource({
            kinesis,
            streamName: config.source.streamName,
            startingPosition: options.kinesisSource?.startingPosition ?? 'LATEST',
            pollIntervalMs: options.kinesisSource?.pollIntervalMs ?? defaultPollIntervalMs,
            onRecords: accept,
            checkpoints: journal?.checkpoints,
            onCheckpoint: journal ? (shardId, sequenceNumber) => journal.saveCheckpoint(shardId, sequenceNumber) : undefined,
            onError: stream.reportError,
          });
        } catch (error) {
          stream.close();
          await journal?.close();
          throw invalidArgument(`Cannot read Kinesis stream ${config.source.streamArn}: ${describeError(error)}`);
        }
      }
      streams.set(name, { stream, accept, journal, source, createdAt: now() });
      return config.arn;
    } finally {
      creating.delete(name);
    }
  }

  async function deleteStream(name: string): Promise<void> {
    const entry = entryOf(name);
    streams.delete(name);
    deleted.push(entry);
    failureRules.delete(name);
    await entry.source?.stop();
    entry.source = undefined;
    // Deleting does not drop what was accepted: the buffer is still delivered (stop() waits for it too).
    entry.stream.flushBuffer();
  }

  function failureFor(name: string, data: Buffer, index: number): PutRecordResult | undefined {
    const rule = failureRules.get(name);
    if (!rule || rule.remaining <= 0 || (rule.match && !rule.match({ data, index }))) return undefined;
    rule.remaining -= 1;
    const errorCode = rule.errorCode ?? 'ServiceUnavailableException';
    return { ErrorCode: errorCode, ErrorMessage: rule.errorMessage ?? (errorCode === 'InternalFailure' ? 'Internal service failure.' : 'Slow down.') };
  }

  const backend: FirehoseBackend = {
    createDeliveryStream: createStream,
    deleteDeliveryStream: deleteStream,
    describeDeliveryStream(name) {
      const entry = entryOf(name);
      return describeDeliveryStream(entry.stream.config, entry.createdAt);
    },
    listDeliveryStreams(type) {
      return [...streams.values()].filter((entry) => !type || entry.stream.config.type === type).map((entry) => entry.stream.config.name);
    },
    async putRecords(name, records) {
      if (stopping) throw new FirehoseError('ServiceUnavailableException', 'The local Firehose is stopping.');
      const { stream } = entryOf(name);
      if (stream.config.type === 'KinesisStreamAsSource') {
        throw invalidArgument('This operation is not permitted on KinesisStreamAsSource delivery stream type.');
      }
      const arrivedAt = now();
      const accepted: Buffer[] = [];
      const results = records.map((data, index): PutRecordResult => {
        const failure = failureFor(name, data, index);
        if (failure) return failure;
        accepted.push(data);
        return { RecordId: randomBytes(42).toString('base64url') };
      });
      // On disk (with a dataDir) before the answer: an acknowledged record survives a crash.
      await entryOf(name).accept(accepted.map((data) => ({ data, arrivedAt })));
      stream.countRejected(records.length - accepted.length);
      return { results, encrypted: stream.config.encrypted };
    },
  };

  const server = createServer(firehoseRequestListener(backend));
  const port = await listen(server, options.port ?? 0);

  async function flushEntry(entry: Entry): Promise<void> {
    await entry.source?.pollNow();
    entry.stream.flushBuffer();
    await entry.stream.settled();
  }

  async function stop(): Promise<StopReport> {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all([...streams.values()].map((entry) => entry.source?.stop()));
    await Promise.allSettled(journaling);
    const entries = allEntries();
    for (const entry of entries) entry.stream.flushBuffer();
    const everySettled = Promise.all(entries.map((entry) => entry.stream.settled()));
    const settledInTime = await settlesWithin(everySettled, options.stopTimeoutMs ?? defaultStopTimeoutMs);
    // Ends the retries still running: their records stay counted in flight and are reported below.
    abort.abort();
    if (!settledInTime) await settlesWithin(everySettled, abortGraceMs);
    for (const entry of entries) entry.stream.close();
    await Promise.all(entries.map((entry) => entry.journal?.close()));
    server.closeAllConnections();
    await closed;
    const finalStats = entries.map((entry) => entry.stream.stats());
    return {
      stats: Object.fromEntries(entries.map((entry, index) => [entry.stream.config.name, finalStats[index] as DeliveryStreamStats])),
      inFlight: finalStats.reduce((sum, stats) => sum + stats.inFlight, 0),
    };
  }

  return {
    endpoint: `http://127.0.0.1:${port}`,
    region: account.region,
    createDeliveryStream: (name, properties) => createStream(name, properties),
    deleteDeliveryStream: deleteStream,
    async flush(name) {
      await Promise.all((name === undefined ? allEntries() : [liveOrDeleted(name)]).map(flushEntry));
    },
    stats: (name) => liveOrDeleted(name).stream.stats(),
    injectPutFailures(name, rule = {}) {
      entryOf(name);
      failureRules.set(name, { ...rule, remaining: rule.times ?? Number.POSITIVE_INFINITY });
    },
    clearPutFailures(name) {
      if (name === undefined) failureRules.clear();
      else failureRules.delete(name);
    },
    stop() {
      stopping ??= stop();
      return stopping;
    },
    async kill() {
      stopping ??= Promise.resolve({ stats: {}, inFlight: 0 });
      abort.abort();
      await Promise.all(allEntries().map((entry) => entry.source?.stop({ finalPoll: false })));
      for (const entry of allEntries()) entry.stream.close();
      // What is being written still lands (it may have been acknowledged); nothing new is.
      await Promise.all(allEntries().map((entry) => entry.journal?.close()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
