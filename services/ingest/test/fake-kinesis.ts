import type { PutRecordsCommand, PutRecordsCommandOutput, PutRecordsResultEntry } from '@aws-sdk/client-kinesis';
import type { KinesisSender } from '../src/functions/post-invoices/put-invoices';

/** A record the fake stream holds. */
export interface StoredRecord {
  partitionKey: string;
  data: string;
  shardId: string;
  sequenceNumber: string;
}

export type RecordOutcome = 'ok' | { errorCode: string; errorMessage?: string };

export interface FakeKinesisBehaviour {
  /** Fate of each record of call number `call` (1-based); default: stored. */
  record?: (partitionKey: string, call: number) => RecordOutcome;
  /** An error the whole call `call` fails with; default: none. */
  call?: (call: number) => Error | undefined;
  /** How long call `call` takes before it answers (a slow stream); an abort signal cuts it short. Default: 0. */
  delayMs?: (call: number) => number;
}

/** An error shaped as the SDK throws them (name = the service's error code). */
export function awsError(name: string, httpStatusCode = 400): Error {
  return Object.assign(new Error(`${name} (fake)`), { name, $metadata: { httpStatusCode }, $fault: httpStatusCode >= 500 ? 'server' : 'client' });
}

/** Waits like a slow call, rejecting as the SDK does (an AbortError) when the signal fires first. */
function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const abort = () => {
      clearTimeout(timer);
      reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', abort);
      resolve();
    }, ms);
    if (signal?.aborted) abort();
    else signal?.addEventListener('abort', abort, { once: true });
  });
}

export const throttled: RecordOutcome = { errorCode: 'ProvisionedThroughputExceededException', errorMessage: 'Rate exceeded for shard shardId-000000000000' };

/**
 * PutRecords only, in memory, with Kinesis' quotas enforced the way the service does (a call over them fails
 * whole). Keeps every call's input and every stored record.
 */
export class FakeKinesis implements KinesisSender {
  readonly calls: Array<{ streamName: string; partitionKeys: string[] }> = [];
  readonly stored: StoredRecord[] = [];
  private sequence = 0n;

  constructor(private readonly behaviour: FakeKinesisBehaviour = {}) {}

  async send(command: PutRecordsCommand, options: { abortSignal?: AbortSignal } = {}): Promise<PutRecordsCommandOutput> {
    const { StreamName = '', Records = [] } = command.input;
    const call = this.calls.push({ streamName: StreamName, partitionKeys: Records.map((record) => record.PartitionKey ?? '') });
    const delay = this.behaviour.delayMs?.(call) ?? 0;
    if (delay > 0) await abortableDelay(delay, options.abortSignal);
    const bytes = Records.reduce((sum, record) => sum + (record.Data?.byteLength ?? 0) + Buffer.byteLength(record.PartitionKey ?? ''), 0);
    if (Records.length === 0 || Records.length > 500 || bytes > 5 * 1024 * 1024) throw awsError('ValidationException');
    if (Records.some((record) => (record.Data?.byteLength ?? 0) + Buffer.byteLength(record.PartitionKey ?? '') > 1024 * 1024)) throw awsError('ValidationException');
    const failure = this.behaviour.call?.(call);
    if (failure) throw failure;

    let failed = 0;
    const entries: PutRecordsResultEntry[] = Records.map((record) => {
      const partitionKey = record.PartitionKey ?? '';
      const outcome = this.behaviour.record?.(partitionKey, call) ?? 'ok';
      if (outcome !== 'ok') {
        failed += 1;
        return { ErrorCode: outcome.errorCode, ErrorMessage: outcome.errorMessage ?? outcome.errorCode };
      }
      this.sequence += 1n;
      const stored = {
        partitionKey,
        data: Buffer.from(record.Data ?? new Uint8Array()).toString('utf8'),
        shardId: 'shardId-000000000000',
        sequenceNumber: String(49_000_000_000n + this.sequence),
      };
      this.stored.push(stored);
      return { ShardId: stored.shardId, SequenceNumber: stored.sequenceNumber };
    });
    return { $metadata: { httpStatusCode: 200 }, FailedRecordCount: failed, Records: entries };
  }
}
