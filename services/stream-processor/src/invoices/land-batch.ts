import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { chunkWithin, forEachLimited, sendOwnedUntilAccepted, type CallRecovery, type Owned } from '@invoice-pipeline/retry';
import { normaliseInvoice, type Invoice } from '@invoice-pipeline/transactions';
import { invoiceItems, type InvoiceItem } from './dynamodb-items';
import { MAX_BYTES_PER_CALL, MAX_RECORDS_PER_CALL, packWarehouseRecords, type WarehouseStreamTarget } from './send-warehouse';
import { isDynamoDbRefusal, SinkRefusedError } from './sink-refusal';
import { SINK_RETRY } from './sink-retry';
import {
  batchWriteOnce,
  MAX_ITEMS_PER_BATCH_WRITE,
  putFirstHeaders,
  putHeader,
  removeRefusedVersion,
  staleLineDeletes,
  type DynamoDbTarget,
  type WriteRequest,
} from './write-dynamodb';

export interface InvoiceSinks {
  table: DynamoDbTarget;
  warehouse: WarehouseStreamTarget;
  /** Calls in flight at once (conditional header puts, stale-line queries, batch calls); default HEADER_CONCURRENCY. */
  concurrency?: number;
  /** Waits between retries (tests pass a fake). */
  sleep?: (ms: number) => Promise<void>;
}

/** One invoice of a batch at the version of its record; `id` names the record (its sequence number). */
export interface BatchInvoice {
  id: string;
  invoice: Invoice;
  version: string;
}

export type Outcome =
  /** In DynamoDB and accepted by Firehose. */
  | { status: 'landed'; lines: number }
  /** A newer version is already in DynamoDB: nothing of this one was written anywhere. */
  | { status: 'superseded'; lines: number }
  /** A sink refuses what the invoice holds: a bad row (retrying cannot help). */
  | { status: 'refused'; error: SinkRefusedError }
  /** Not fully landed (throttled past its retries, a sink unreachable): the record must be retried. */
  | { status: 'failed'; error: Error };

/**
 * Calls in flight at once. The header puts of invoices already stored are one call per invoice (a conditional write
 * cannot go in a BatchWriteItem), so a 100-record batch of redeliveries runs them 16 at a time: far under DynamoDB's
 * per-partition limits (each invoice is its own partition) and the SDK's 50 sockets.
 */
export const HEADER_CONCURRENCY = 16;

interface Pending {
  entry: BatchInvoice;
  lines: number;
  header: InvoiceItem;
  lineItems: InvoiceItem[];
  records: Buffer[];
  previous?: Record<string, unknown>;
  requests: WriteRequest[];
}

/** The owned requests of a call that DynamoDB left unprocessed (batchWriteOnce returns the very request objects sent). */
function unprocessedOf(call: Owned<Pending, WriteRequest>[], unprocessed: WriteRequest[]): Owned<Pending, WriteRequest>[] {
  const left = new Set(unprocessed);
  return call.filter((item) => left.has(item.value));
}

const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

/**
 * Lands the valid invoices of one Kinesis batch with batched sink calls, and says what became of each:
 * 1. Each invoice is normalised, its warehouse rows packed and checked (a refusal writes nothing) and its items built.
 * 2. Headers: those of invoices not stored yet in TransactWriteItems calls of 100 (putFirstHeaders), the rest one
 *    conditional put per invoice (newest version wins, one store per invoice number), in parallel.
 * 3. An invoice that replaced a stored header has its stored line items listed; those its new version no longer has
 *    are deleted in step 4 (a re-send with fewer lines leaves nothing behind).
 * 4. Line items and deletes of every invoice go in BatchWriteItem calls of 25 across invoices; UnprocessedItems are
 *    retried with backoff, and what is still unprocessed fails exactly the invoices it belongs to. A call refused
 *    (ValidationException: one item DynamoDB cannot store) is split per invoice, so only the invoice that holds the
 *    item is refused (its header and lines are removed again) and its neighbours land.
 * 5. The packed rows of every invoice now whole in DynamoDB go in PutRecordBatch calls of up to 500 records / 4 MiB;
 *    FailedPutCount entries are retried with backoff, and what Firehose still refuses fails its invoices. DynamoDB is
 *    written before Firehose, so a row DynamoDB refuses never reaches the warehouse.
 * The caller passes only the newest version of each invoice in the batch: two versions are never written at once.
 */
export async function landInvoices(batch: readonly BatchInvoice[], sinks: InvoiceSinks): Promise<Map<string, Outcome>> {
  const outcomes = new Map<string, Outcome>();
  const concurrency = sinks.concurrency ?? HEADER_CONCURRENCY;
  const hooks = sinks.sleep ? { sleep: sinks.sleep } : undefined;
  const fail = (entry: BatchInvoice, error: unknown) => {
    const cause = asError(error);
    outcomes.set(entry.id, cause instanceof SinkRefusedError ? { status: 'refused', error: cause } : { status: 'failed', error: cause });
  };

  // 1. Prepare (no I/O).
  const prepared: Pending[] = [];
  for (const entry of batch) {
    try {
      const lines = normaliseInvoice(entry.invoice);
      const records = packWarehouseRecords(lines, entry.version);
      const [header, ...lineItems] = invoiceItems(lines, entry.version);
      if (!header) throw new Error(`invoice ${entry.invoice.invoiceNo} has no lines`);
      prepared.push({ entry, lines: lines.length, header, lineItems, records, requests: [] });
    } catch (error) {
      fail(entry, error);
    }
  }

  // 2 and 3. Headers (first deliveries in transactions, the rest gated one by one), then what a replaced version leaves behind.
  const written: Pending[] = [];
  const gated = new Set(await putFirstHeaders(prepared.map((invoice) => invoice.header), sinks.table));
  for (const invoice of prepared) {
    if (gated.has(invoice.header)) continue;
    invoice.requests = invoice.lineItems.map((Item) => ({ PutRequest: { Item } }));
    written.push(invoice);
  }
  await forEachLimited(prepared.filter((invoice) => gated.has(invoice.header)), concurrency, async (invoice) => {
    try {
      const put = await putHeader(invoice.header, invoice.entry.version, sinks.table);
      if (put.status === 'superseded') {
        outcomes.set(invoice.entry.id, { status: 'superseded', lines: invoice.lines });
        return;
      }
      invoice.requests = invoice.lineItems.map((Item) => ({ PutRequest: { Item } }));
      if (put.previous) {
        invoice.requests.push(...(await staleLineDeletes(invoice.header.pk, new Set(invoice.lineItems.map((item) => item.sk)), sinks.table)));
      }
      written.push(invoice);
    } catch (error) {
      fail(invoice.entry, error);
    }
  });

  // 4. Line items and deletes, 25 per call across invoices.
  const retry = sinks.table.retry ?? SINK_RETRY;
  const refused = new Set<Pending>();
  const ownedRequests = written.flatMap((owner) => owner.requests.map((value) => ({ owner, value })));
  const dynamoFailed = await sendOwnedUntilAccepted(ownedRequests, {
    chunk: (items) => chunkWithin(items, { maxCount: MAX_ITEMS_PER_BATCH_WRITE }),
    send: async (call) => unprocessedOf(call, await batchWriteOnce(call.map((item) => item.value), sinks.table)),
    // A refusal fails the whole call: each of its invoices is written on its own, so only the culprit is refused.
    async recover(call, error) {
      if (!isDynamoDbRefusal(error)) return undefined;
      const recovery: CallRecovery<Pending, WriteRequest> = { left: [], failed: new Map() };
      const owners = [...new Set(call.map((item) => item.owner))];
      await forEachLimited(owners, concurrency, async (owner) => {
        const own = call.filter((item) => item.owner === owner);
        try {
          recovery.left.push(...unprocessedOf(own, await batchWriteOnce(own.map((item) => item.value), sinks.table)));
        } catch (ownError) {
          const why = isDynamoDbRefusal(ownError) ? new SinkRefusedError('DynamoDB', [{ path: 'lines', message: ownError.message }]) : asError(ownError);
          if (why instanceof SinkRefusedError) refused.add(owner);
          recovery.failed.set(owner, why);
        }
      });
      return recovery;
    },
    retry,
    what: `DynamoDB ${sinks.table.tableName}`,
    concurrency,
    hooks,
  });
  await forEachLimited([...refused], concurrency, (owner) => removeRefusedVersion(owner.header, owner.entry.version, sinks.table));
  for (const [owner, why] of dynamoFailed) fail(owner.entry, why);

  // 5. The warehouse rows of every invoice now whole in DynamoDB.
  const whole = written.filter((owner) => !dynamoFailed.has(owner));
  const firehoseFailed = await sendOwnedUntilAccepted(
    whole.flatMap((owner) => owner.records.map((value) => ({ owner, value }))),
    {
      chunk: (items) => chunkWithin(items, { maxCount: MAX_RECORDS_PER_CALL, maxBytes: MAX_BYTES_PER_CALL }, (item) => item.value.length),
      async send(call) {
        const reply = await sinks.warehouse.firehose.send(
          new PutRecordBatchCommand({ DeliveryStreamName: sinks.warehouse.deliveryStreamName, Records: call.map((item) => ({ Data: item.value })) }),
        );
        if (!reply.FailedPutCount) return [];
        // RequestResponses is in the order of the records sent; an entry with an ErrorCode was not accepted.
        return call.filter((_, index) => reply.RequestResponses?.[index]?.ErrorCode);
      },
      retry: sinks.warehouse.retry ?? SINK_RETRY,
      what: `Firehose ${sinks.warehouse.deliveryStreamName}`,
      concurrency: 1,
      hooks,
    },
  );
  for (const owner of whole) {
    const why = firehoseFailed.get(owner);
    if (why) fail(owner.entry, why);
    else outcomes.set(owner.entry.id, { status: 'landed', lines: owner.lines });
  }
  return outcomes;
}
