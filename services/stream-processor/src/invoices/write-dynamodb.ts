import { BatchWriteItemCommand, ConditionalCheckFailedException, TransactionCanceledException, type WriteRequest as WireWriteRequest } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { chunkWithin, sendUntilAccepted, type RetryPolicy } from '@invoice-pipeline/retry';
import { ownershipConflict } from '@invoice-pipeline/transactions';
import { HEADER_SK, LINES_SK_PREFIX } from '@invoice-pipeline/transactions';
import { attributeMap, type InvoiceItem } from './dynamodb-items';
import { isDynamoDbRefusal, SinkRefusedError } from './sink-refusal';
import { SINK_RETRY } from './sink-retry';

export const MAX_ITEMS_PER_BATCH_WRITE = 25;
/** Actions one TransactWriteItems call takes (their items together at most 4 MB: headers are well under 1 KB each). */
export const MAX_ITEMS_PER_TRANSACTION = 100;

export interface DynamoDbTarget {
  dynamodb: Pick<DynamoDBDocumentClient, 'send'>;
  tableName: string;
  retry?: RetryPolicy;
}

export type WriteRequest = { PutRequest: { Item: InvoiceItem } } | { DeleteRequest: { Key: { pk: string; sk: string } } };

const keyText = (pk: unknown, sk: unknown): string => `${String(pk)}\u0000${String(sk)}`;

/** The key a write request is about: unique within one BatchWriteItem call (DynamoDB refuses two requests on one key). */
const requestKey = (request: WriteRequest): string => {
  const { pk, sk } = 'PutRequest' in request ? request.PutRequest.Item : request.DeleteRequest.Key;
  return keyText(pk, sk);
};

/** The same key of a request as DynamoDB hands it back (UnprocessedItems: marshalled copies). */
const wireKey = (request: WireWriteRequest): string => {
  const key = request.PutRequest?.Item ?? request.DeleteRequest?.Key ?? {};
  return keyText(key.pk?.S, key.sk?.S);
};

const toWire = (request: WriteRequest): WireWriteRequest =>
  'PutRequest' in request ? { PutRequest: { Item: attributeMap(request.PutRequest.Item) } } : { DeleteRequest: { Key: attributeMap(request.DeleteRequest.Key) } };

/**
 * One BatchWriteItem call (at most 25 requests); resolves to the requests DynamoDB left unprocessed, the very objects
 * given. A reply naming a request that was not sent cannot be mapped back: then every request of the call is returned,
 * to be sent again (puts and deletes are idempotent). The low-level command with items marshalled by attributeMap: the
 * document client's marshalling took ~10% of the stream processor's CPU. The client is still the document client,
 * which sends low-level commands as they are.
 */
export async function batchWriteOnce(requests: WriteRequest[], target: DynamoDbTarget): Promise<WriteRequest[]> {
  const send = target.dynamodb.send as (command: BatchWriteItemCommand) => Promise<{ UnprocessedItems?: Record<string, WireWriteRequest[]> }>;
  const reply = await send.call(target.dynamodb, new BatchWriteItemCommand({ RequestItems: { [target.tableName]: requests.map(toWire) } }));
  const unprocessed = reply.UnprocessedItems?.[target.tableName] ?? [];
  if (unprocessed.length === 0) return [];
  const byKey = new Map(requests.map((request) => [requestKey(request), request]));
  const sent = unprocessed.map((request) => byKey.get(wireKey(request)));
  return sent.every((request) => request !== undefined) ? sent : requests;
}

/** BatchWriteItem in chunks of 25, retrying UnprocessedItems with backoff until none is left. */
async function batchWrite(requests: WriteRequest[], target: DynamoDbTarget): Promise<void> {
  for (const call of chunkWithin(requests, { maxCount: MAX_ITEMS_PER_BATCH_WRITE })) {
    await sendUntilAccepted(call, (pending) => batchWriteOnce(pending, target), target.retry ?? SINK_RETRY, `DynamoDB ${target.tableName}`);
  }
}

/** Puts every item unconditionally (idempotent: same key, same content). */
export async function putItems(items: InvoiceItem[], target: DynamoDbTarget): Promise<void> {
  await batchWrite(items.map((Item) => ({ PutRequest: { Item } })), target);
}

/** The header is written only over an older (or the same) version of the same store's invoice. */
const headerGate = {
  ConditionExpression: '(attribute_not_exists(#version) OR #version <= :version) AND (attribute_not_exists(#store) OR #store = :store)',
  ExpressionAttributeNames: { '#version': 'version', '#store': 'storeId' },
};

/** Why a gated header put failed: another store owns the number (a refusal), or a newer version is there. */
async function whyGateFailed(header: InvoiceItem, target: DynamoDbTarget): Promise<{ status: 'superseded' }> {
  const { Items: [stored] = [] } = await target.dynamodb.send(
    new QueryCommand({ TableName: target.tableName, KeyConditionExpression: 'pk = :pk AND sk = :sk', ExpressionAttributeValues: { ':pk': header.pk, ':sk': HEADER_SK }, ConsistentRead: true }),
  );
  const conflict = ownershipConflict(stored as { storeId: string } | undefined, { storeId: header.storeId as string, invoiceNo: header.invoiceNo as string });
  if (conflict) throw new SinkRefusedError('DynamoDB', [{ path: 'storeId', message: conflict }]);
  return { status: 'superseded' };
}

/**
 * The headers of invoices DynamoDB holds nothing of yet (a first delivery: nearly every invoice), put in one
 * TransactWriteItems call per 100, each on condition that the invoice has no header: one call where the gate below
 * costs one per invoice. All or nothing: a stored header cancels its transaction and its cancellation reason names
 * it, so the others go again in the next call. Resolves to the headers it did not put, for the per-invoice gate
 * (putHeader), which writes, supersedes or refuses each one: those of invoices that have a header, and every header of
 * a call that failed otherwise (a conflict with a concurrent write, a refusal, throttling past the SDK's retries, or a
 * transaction that succeeded but whose reply was lost: the gate then finds the same version and goes on).
 */
export async function putFirstHeaders(headers: readonly InvoiceItem[], target: DynamoDbTarget): Promise<InvoiceItem[]> {
  const left: InvoiceItem[] = [];
  for (let call of chunkWithin(headers, { maxCount: MAX_ITEMS_PER_TRANSACTION })) {
    while (call.length > 0) {
      try {
        const TransactItems = call.map((Item) => ({ Put: { TableName: target.tableName, Item, ConditionExpression: 'attribute_not_exists(pk)' } }));
        await target.dynamodb.send(new TransactWriteCommand({ TransactItems }));
        break;
      } catch (error) {
        const reasons = error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
        const stored = (index: number) => reasons[index]?.Code === 'ConditionalCheckFailed';
        const onlyStoredHeaders = reasons.length === call.length && reasons.some((_, index) => stored(index)) && reasons.every((reason, index) => stored(index) || reason.Code === 'None');
        if (!onlyStoredHeaders) {
          left.push(...call);
          break;
        }
        left.push(...call.filter((_, index) => stored(index)));
        call = call.filter((_, index) => !stored(index));
      }
    }
  }
  return left;
}

export type HeaderWrite = { status: 'written'; previous: Record<string, unknown> | undefined } | { status: 'superseded' };

/**
 * Step 1 of replacing an invoice: its header is put on condition that the stored version is not newer (`<=`: a retry
 * of the same version goes on, so a crash between the steps heals on redelivery) and that no other store owns the
 * invoice number. A failed condition means a newer version won (`superseded`: write nothing else) or another store's
 * invoice is there (SinkRefusedError, `ownershipConflict` of transactions says why). The header it replaced comes
 * back (ReturnValues ALL_OLD, no extra cost): without one, the invoice has no line items to clean up.
 */
export async function putHeader(header: InvoiceItem, version: string, target: DynamoDbTarget): Promise<HeaderWrite> {
  try {
    const reply = await target.dynamodb.send(
      new PutCommand({ TableName: target.tableName, Item: header, ...headerGate, ExpressionAttributeValues: { ':version': version, ':store': header.storeId }, ReturnValues: 'ALL_OLD' }),
    );
    return { status: 'written', previous: reply.Attributes };
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return whyGateFailed(header, target);
    if (isDynamoDbRefusal(error)) throw new SinkRefusedError('DynamoDB', [{ path: 'header', message: error.message }]);
    throw error;
  }
}

/** Delete requests for the invoice's stored line items that `keep` does not name (every one when `keep` is empty). */
export async function staleLineDeletes(pk: string, keep: ReadonlySet<string>, target: DynamoDbTarget): Promise<WriteRequest[]> {
  const stale: WriteRequest[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await target.dynamodb.send(
      new QueryCommand({
        TableName: target.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :lines)',
        ExpressionAttributeValues: { ':pk': pk, ':lines': LINES_SK_PREFIX },
        ProjectionExpression: 'pk, sk',
        ConsistentRead: true,
        ExclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) if (!keep.has(item.sk as string)) stale.push({ DeleteRequest: { Key: { pk: item.pk as string, sk: item.sk as string } } });
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return stale;
}

/**
 * After DynamoDB refused a version's line items: its header goes (only if it is still this version) and so do its
 * line items, so the table never holds lines without a header (a later version then has nothing stale to find).
 * Best effort: whatever fails here is found again when the record is retried or a later version lands.
 */
export async function removeRefusedVersion(header: InvoiceItem, version: string, target: DynamoDbTarget): Promise<void> {
  try {
    await target.dynamodb.send(
      new DeleteCommand({ TableName: target.tableName, Key: { pk: header.pk, sk: HEADER_SK }, ConditionExpression: '#version = :version', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':version': version } }),
    );
  } catch {
    return; // a newer version owns the invoice now (or DynamoDB is unreachable): its lines are not ours to remove
  }
  await batchWrite(await staleLineDeletes(header.pk, new Set(), target), target).catch(() => undefined);
}
