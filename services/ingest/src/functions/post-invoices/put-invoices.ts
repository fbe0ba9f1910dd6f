import { PutRecordsCommand, type PutRecordsCommandOutput, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import type { AcceptedInvoice, Invoice } from '@invoice-pipeline/transactions';
import { backoffDelay, chunkWithin, sleep as realSleep, type RetryPolicy } from '@invoice-pipeline/retry';

/** Kinesis Data Streams quotas that shape a PutRecords call (a record's size counts its partition key). */
export const KINESIS_LIMITS = {
  maxRecordBytes: 1024 * 1024,
  maxRecordsPerCall: 500,
  maxBytesPerCall: 5 * 1024 * 1024,
} as const;

/** The one thing putInvoices needs of a Kinesis client; a KinesisClient is one, a test fake is another. */
export interface KinesisSender {
  send(command: PutRecordsCommand, options?: { abortSignal?: AbortSignal }): Promise<PutRecordsCommandOutput>;
}

export interface PutInvoicesDependencies {
  kinesis: KinesisSender;
  streamName: string;
  retry: RetryPolicy;
  /** Epoch ms by which putInvoices returns or throws (the invocation's deadline less a margin): every call is aborted then. */
  deadline?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

export interface PutInvoicesResult {
  /** One entry per invoice, in request order. */
  accepted: AcceptedInvoice[];
  /** Records put again after a failure (a record retried twice counts twice). */
  retriedRecords: number;
  /** PutRecords calls made. */
  calls: number;
}

/** One invoice as a stream record: the invoice's JSON, partition key its number. */
export interface InvoiceRecord {
  invoiceNo: string;
  lines: number;
  data: Uint8Array;
  /** Size as Kinesis counts it: data plus partition key. */
  bytes: number;
}

export class RecordTooLargeError extends Error {
  override name = 'RecordTooLargeError';
  constructor(readonly oversized: ReadonlyArray<{ index: number; invoiceNo: string; bytes: number }>) {
    super(`${oversized.length} invoice(s) exceed the ${KINESIS_LIMITS.maxRecordBytes}-byte stream record limit`);
  }
}

/** The stream kept refusing some records (throttled or failing) until the retries ran out. Nothing is lost by resending. */
export class StreamUnavailableError extends Error {
  override name = 'StreamUnavailableError';
  constructor(
    readonly failedRecords: number,
    readonly attempts: number,
    readonly errorCode: string,
  ) {
    super(`${failedRecords} record(s) still failing after ${attempts} attempt(s) (${errorCode})`);
  }
}

/** The invocation ran out of time during or before a PutRecords call. Some records may be in; resending is safe. */
class DeadlineExceededError extends StreamUnavailableError {
  override name = 'DeadlineExceededError';
}

/** Kinesis refused records for a reason retrying cannot fix (e.g. the stream's KMS key is unusable). */
export class StreamWriteError extends Error {
  override name = 'StreamWriteError';
  constructor(readonly errorCode: string, message: string) {
    super(`PutRecords refused records: ${errorCode}: ${message}`);
  }
}

/** Per-record error codes of PutRecords that a later attempt can succeed on. */
const RETRYABLE_RECORD_CODES = new Set(['ProvisionedThroughputExceededException', 'InternalFailure', 'KMSThrottlingException']);
/** Errors of a whole PutRecords call that a later attempt can succeed on. */
const RETRYABLE_CALL_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'ThrottlingException',
  'KMSThrottlingException',
  'InternalFailure',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
]);
const NETWORK_ERROR_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ECONNABORTED']);

function isRetryableCallError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, code, $metadata } = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  return (
    RETRYABLE_CALL_ERRORS.has(name ?? '') || NETWORK_ERROR_CODES.has(code ?? '') || ($metadata?.httpStatusCode ?? 0) >= 500
  );
}

const encoder = new TextEncoder();

function toInvoiceRecords(invoices: readonly Invoice[]): InvoiceRecord[] {
  return invoices.map((invoice) => {
    const data = encoder.encode(JSON.stringify(invoice));
    return { invoiceNo: invoice.invoiceNo, lines: invoice.lines.length, data, bytes: data.byteLength + Buffer.byteLength(invoice.invoiceNo) };
  });
}

/** Splits records (given by index) into PutRecords calls within the count and size quotas, keeping their order. */
export function chunkForPutRecords(indexes: readonly number[], records: readonly InvoiceRecord[]): number[][] {
  return chunkWithin(indexes, { maxCount: KINESIS_LIMITS.maxRecordsPerCall, maxBytes: KINESIS_LIMITS.maxBytesPerCall }, (index) => (records[index] as InvoiceRecord).bytes);
}

interface Failure {
  index: number;
  code: string;
  message: string;
  retryable: boolean;
}

/**
 * Puts one record per invoice on the stream (partition key = invoice number) and returns where each landed.
 * Records over the size limit are refused before anything is written. Records that fail (partial failure,
 * FailedRecordCount > 0, or a throttled or failed call) are retried alone, with exponential backoff and full
 * jitter, until they succeed or the retry policy or deadline runs out. It returns only when every record is in
 * the stream; otherwise it throws, and some records may be in the stream (consumers are idempotent, resending
 * is safe).
 */
export async function putInvoices(invoices: readonly Invoice[], deps: PutInvoicesDependencies): Promise<PutInvoicesResult> {
  const records = toInvoiceRecords(invoices);
  const oversized = records.flatMap((record, index) =>
    record.bytes > KINESIS_LIMITS.maxRecordBytes ? [{ index, invoiceNo: record.invoiceNo, bytes: record.bytes }] : [],
  );
  if (oversized.length) throw new RecordTooLargeError(oversized);

  const { kinesis, streamName, retry } = deps;
  const sleep = deps.sleep ?? realSleep;
  const now = deps.now ?? Date.now;
  const placed: Array<{ shardId: string; sequenceNumber: string } | undefined> = new Array(records.length);
  let pending = records.map((_, index) => index);
  let retriedRecords = 0;
  let calls = 0;

  for (let attempt = 1; ; attempt += 1) {
    const failures: Failure[] = [];
    for (const chunk of chunkForPutRecords(pending, records)) {
      const entries: PutRecordsRequestEntry[] = chunk.map((index) => {
        const record = records[index] as InvoiceRecord;
        return { PartitionKey: record.invoiceNo, Data: record.data };
      });
      const timeLeft = deps.deadline === undefined ? undefined : deps.deadline - now();
      if (timeLeft !== undefined && timeLeft <= 0) throw new DeadlineExceededError(pending.length, attempt, 'DeadlineExceeded');
      calls += 1;
      let output: PutRecordsCommandOutput;
      // The call is cut off when the time left runs out: the caller gets a 503 in time, never a Lambda timeout.
      const abortSignal = timeLeft === undefined ? undefined : AbortSignal.timeout(timeLeft);
      try {
        output = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: entries }), { abortSignal });
      } catch (error) {
        if (abortSignal?.aborted) throw new DeadlineExceededError(pending.length, attempt, 'DeadlineExceeded');
        if (!isRetryableCallError(error)) throw error;
        const { name, code, message = '' } = error as Error & { code?: string };
        for (const index of chunk) failures.push({ index, code: code ?? name, message, retryable: true });
        continue;
      }
      chunk.forEach((index, position) => {
        const entry = output.Records?.[position];
        if (entry?.SequenceNumber && entry.ShardId) placed[index] = { shardId: entry.ShardId, sequenceNumber: entry.SequenceNumber };
        else {
          const code = entry?.ErrorCode ?? 'InternalFailure';
          failures.push({ index, code, message: entry?.ErrorMessage ?? 'no result for this record', retryable: RETRYABLE_RECORD_CODES.has(code) });
        }
      });
    }
    if (failures.length === 0) break;

    const permanent = failures.find((failure) => !failure.retryable);
    if (permanent) throw new StreamWriteError(permanent.code, permanent.message);
    const delay = backoffDelay(attempt, retry, deps.random);
    const outOfTime = deps.deadline !== undefined && now() + delay >= deps.deadline;
    if (attempt >= retry.maxAttempts || outOfTime) throw new StreamUnavailableError(failures.length, attempt, (failures[0] as Failure).code);
    await sleep(delay);
    retriedRecords += failures.length;
    pending = failures.map((failure) => failure.index).sort((a, b) => a - b);
  }

  const accepted = records.map((record, index) => {
    const where = placed[index] as { shardId: string; sequenceNumber: string };
    return { invoiceNo: record.invoiceNo, lines: record.lines, shardId: where.shardId, sequenceNumber: where.sequenceNumber };
  });
  return { accepted, retriedRecords, calls };
}
