import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { promisify } from 'node:util';
import { constants, gzip } from 'node:zlib';
import type { DeliveryStreamConfig } from './config';
import { describeError } from './errors';
import { objectName, renderErrorPrefix, renderPrefix } from './key-format';
import { retryWithin, type BackoffPolicy, type RetryOutcome } from './retry';

const gzipAsync = promisify(gzip);
/**
 * Firehose's GZIP is gzip at a level it does not document; the fastest level is still gzip to every reader. On the
 * ~200 MB a whole-dataset replay delivers (archive and staging) zlib's default level 6 costs ~1.6 s of CPU, level 1
 * ~0.6 s, for objects ~20% larger.
 */
const GZIP_OPTIONS = { level: constants.Z_BEST_SPEED };

/** Firehose numbers a stream's destination configuration from 1; UpdateDestination (not emulated) would bump it. */
const deliveryStreamVersion = 1;

export interface FirehoseRecord {
  data: Buffer;
  /** Approximate arrival time: evaluates the prefix's timestamp expressions and the object name. */
  arrivedAt: Date;
  /** Its entry in the stream's journal (when the emulator keeps one), marked settled once delivered or failed. */
  journalId?: number;
}

/** Where accepted records are. `recordsIn === delivered + failed + inFlight` holds at every moment. */
export interface DeliveryStreamStats {
  /** Records accepted: PutRecord, PutRecordBatch entries answered with a RecordId, records read from the Kinesis source. */
  recordsIn: number;
  bytesIn: number;
  /** PutRecordBatch entries answered with an ErrorCode: never accepted, the client has to send them again. */
  recordsRejected: number;
  /** Accepted, waiting in the buffer. */
  buffered: number;
  /** Flushed, being written (or retried) to S3. */
  deliveringToS3: number;
  /** Past their retry window, being written to the error output prefix. */
  writingErrorOutput: number;
  /** buffered + deliveringToS3 + writingErrorOutput. */
  inFlight: number;
  /** Records in objects written under Prefix. */
  deliveredToS3: number;
  /** Records settled at the destination (S3). */
  delivered: number;
  /** Records settled in the error output prefix, with their data. */
  failed: number;
  /** Attempts repeated after a failure: S3 writes, error output writes. */
  retries: number;
  /** S3 objects written under Prefix. */
  objectsDelivered: number;
  lastError?: string;
}

type Stage = 'buffered' | 'deliveringToS3' | 'writingErrorOutput';

export interface DeliveryContext {
  s3: S3Client;
  backoff: BackoffPolicy;
  /** How long S3 writes are retried before the batch goes to the error output prefix. */
  s3RetryWindowMs: number;
  /** The buffer in use: the stream's BufferingHints with any local override applied. */
  buffering: { intervalMs: number; sizeBytes: number };
  /** Aborted when the emulator stops: retries end and what they held stays counted in flight. */
  signal: AbortSignal;
  log: (message: string) => void;
  /** Hears of records settled: delivered, or written to the error output (the journal forgets them then). */
  onSettled?: (records: readonly FirehoseRecord[]) => void;
}

export interface DeliveryStream {
  readonly config: DeliveryStreamConfig;
  accept(records: readonly FirehoseRecord[]): void;
  countRejected(count: number): void;
  /** Shows a problem outside delivery (e.g. the Kinesis source failing to poll) as the stream's lastError. */
  reportError(error: unknown): void;
  /** Sends the buffer on its way now, without waiting for the delivery. */
  flushBuffer(): void;
  /** Resolves when every batch flushed so far has settled (or been abandoned by stop). */
  settled(): Promise<void>;
  stats(): DeliveryStreamStats;
  /** Stops the interval timer. */
  close(): void;
}

/** One delivery stream: buffering by size and interval, S3 delivery, retries and error output. */
export function createDeliveryStream(config: DeliveryStreamConfig, context: DeliveryContext): DeliveryStream {
  const extension = config.s3.compression === 'GZIP' ? '.gz' : '';
  const stages: Record<Stage, number> = { buffered: 0, deliveringToS3: 0, writingErrorOutput: 0 };
  const totals = {
    recordsIn: 0,
    bytesIn: 0,
    recordsRejected: 0,
    deliveredToS3: 0,
    delivered: 0,
    failed: 0,
    retries: 0,
    objectsDelivered: 0,
  };
  let lastError: string | undefined;
  let buffer: FirehoseRecord[] = [];
  let bufferedBytes = 0;
  let intervalTimer: NodeJS.Timeout | undefined;
  const batchesInFlight = new Set<Promise<void>>();

  const move = (count: number, from: Stage, to: Stage | 'delivered' | 'failed') => {
    stages[from] -= count;
    if (to === 'delivered' || to === 'failed') totals[to] += count;
    else stages[to] += count;
  };
  const noteError = (error: unknown) => {
    lastError = describeError(error);
  };
  const log = (message: string) => context.log(`firehose ${config.name}: ${message}`);
  const retry = <T>(what: string, operation: () => Promise<T>, windowMs: number): Promise<RetryOutcome<T>> =>
    retryWithin(operation, {
      ...context.backoff,
      windowMs,
      signal: context.signal,
      onRetry: (error) => {
        totals.retries += 1;
        noteError(error);
        log(`retrying ${what} after ${describeError(error)}`);
      },
    });

  const putObject = async (key: string, body: Buffer) => {
    await context.s3.send(new PutObjectCommand({ Bucket: config.s3.bucket, Key: key, Body: body }), { abortSignal: context.signal });
  };
  const compress = (data: Buffer) => (config.s3.compression === 'GZIP' ? gzipAsync(data, GZIP_OPTIONS) : Promise.resolve(data));

  /** Past the window nothing is dropped: the error output is retried until it is written or the emulator stops. */
  async function writeErrorOutput(batch: readonly FirehoseRecord[], key: string, body: Buffer): Promise<void> {
    const outcome = await retry(`error output ${key}`, () => putObject(key, body), Number.POSITIVE_INFINITY);
    if (outcome.status !== 'done') return;
    move(batch.length, 'writingErrorOutput', 'failed');
    context.onSettled?.(batch);
    log(`${batch.length} record(s) failed to s3://${config.s3.bucket}/${key}`);
  }

  /** Failed records in Firehose's error record shape, one JSON document per line, so they can be replayed. */
  async function failToErrorOutput(batch: readonly FirehoseRecord[], oldest: Date, error: unknown, attempts: number) {
    move(batch.length, 'deliveringToS3', 'writingErrorOutput');
    noteError(error);
    const errorName = error instanceof Error ? error.name : 'Error';
    const lines = batch.map((record) =>
      JSON.stringify({
        attemptsMade: attempts,
        arrivalTimestamp: record.arrivedAt.getTime(),
        errorCode: `S3.${errorName}`,
        errorMessage: describeError(error),
        attemptEndingTimestamp: Date.now(),
        rawData: record.data.toString('base64'),
      }),
    );
    const key = renderErrorPrefix(config.s3.errorOutputPrefix, oldest, 's3-failed') + objectName(config.name, deliveryStreamVersion, oldest, extension);
    await writeErrorOutput(batch, key, await compress(Buffer.from(lines.join('\n') + '\n')));
  }

  async function deliver(batch: readonly FirehoseRecord[]): Promise<void> {
    // Kinesis shards interleave, so the oldest record is not necessarily the first.
    const oldest = new Date(batch.reduce((min, record) => Math.min(min, record.arrivedAt.getTime()), Number.POSITIVE_INFINITY));
    // Records are concatenated exactly as sent: Firehose adds no delimiter.
    const body = await compress(Buffer.concat(batch.map((record) => record.data)));
    const key = renderPrefix(config.s3.prefix, oldest) + objectName(config.name, deliveryStreamVersion, oldest, extension);
    const outcome = await retry(`S3 write of ${key}`, () => putObject(key, body), context.s3RetryWindowMs);
    if (outcome.status === 'aborted') return;
    if (outcome.status === 'expired') return failToErrorOutput(batch, oldest, outcome.error, outcome.attempts);
    totals.deliveredToS3 += batch.length;
    totals.objectsDelivered += 1;
    move(batch.length, 'deliveringToS3', 'delivered');
    context.onSettled?.(batch);
  }

  function flushBuffer(): void {
    clearTimeout(intervalTimer);
    intervalTimer = undefined;
    if (buffer.length === 0) return;
    const batch = buffer;
    buffer = [];
    bufferedBytes = 0;
    move(batch.length, 'buffered', 'deliveringToS3');
    // A bug must not lose the batch silently: its records stay counted where they were, the error is shown.
    const delivery = deliver(batch).catch(noteError);
    batchesInFlight.add(delivery);
    void delivery.finally(() => batchesInFlight.delete(delivery));
  }

  function accept(records: readonly FirehoseRecord[]): void {
    for (const record of records) {
      buffer.push(record);
      bufferedBytes += record.data.length;
      stages.buffered += 1;
      totals.recordsIn += 1;
      totals.bytesIn += record.data.length;
      // Whichever comes first, size or interval, sends the buffer.
      if (bufferedBytes >= context.buffering.sizeBytes) flushBuffer();
    }
    if (buffer.length === 0 || intervalTimer) return;
    if (context.buffering.intervalMs <= 0) return flushBuffer();
    intervalTimer = setTimeout(flushBuffer, context.buffering.intervalMs);
  }

  return {
    config,
    accept,
    countRejected: (count) => {
      totals.recordsRejected += count;
    },
    reportError(error) {
      noteError(error);
      log(describeError(error));
    },
    flushBuffer,
    async settled() {
      while (batchesInFlight.size > 0) await Promise.all([...batchesInFlight]);
    },
    stats: () => ({
      ...totals,
      ...stages,
      inFlight: stages.buffered + stages.deliveringToS3 + stages.writingErrorOutput,
      ...(lastError === undefined ? {} : { lastError }),
    }),
    close() {
      clearTimeout(intervalTimer);
      intervalTimer = undefined;
    },
  };
}
