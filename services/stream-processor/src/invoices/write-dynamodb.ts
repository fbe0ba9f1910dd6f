import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DeleteCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { chunkWithin, sendUntilAccepted, type RetryPolicy } from '@invoice-pipeline/retry';
import { ownershipConflict } from '@invoice-pipeline/transactions';
import { HEADER_SK, LINES_SK_PREFIX, type InvoiceItem } from './dynamodb-items';
import { isDynamoDbRefusal, SinkRefusedError } from './sink-refusal';
import { SINK_RETRY } from './sink-retry';

const MAX_ITEMS_PER_BATCH_WRITE = 25;

export interface DynamoDbTarget {
  dynamodb: Pick<DynamoDBDocumentClient, 'send'>;
  tableName: string;
  retry?: RetryPolicy;
}

type WriteRequest = { PutRequest: { Item: InvoiceItem } } | { DeleteRequest: { Key: { pk: string; sk: string } } };

/** BatchWriteItem in chunks of 25, retrying UnprocessedItems with backoff until none is left. */
async function batchWrite(requests: WriteRequest[], target: DynamoDbTarget): Promise<void> {
  for (const call of chunkWithin(requests, { maxCount: MAX_ITEMS_PER_BATCH_WRITE })) {
    await sendUntilAccepted(
      call,
      async (pending) => {
        const reply = await target.dynamodb.send(new BatchWriteCommand({ RequestItems: { [target.tableName]: pending } }));
        return (reply.UnprocessedItems?.[target.tableName] ?? []) as WriteRequest[];
      },
      target.retry ?? SINK_RETRY,
      `DynamoDB ${target.tableName}`,
    );
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
async function whyGateFailed(header: InvoiceItem, target: DynamoDbTarget): Promise<'superseded'> {
  const { Items: [stored] = [] } = await target.dynamodb.send(
    new QueryCommand({ TableName: target.tableName, KeyConditionExpression: 'pk = :pk AND sk = :sk', ExpressionAttributeValues: { ':pk': header.pk, ':sk': HEADER_SK }, ConsistentRead: true }),
  );
  const conflict = ownershipConflict(stored as { storeId: string } | undefined, { storeId: header.storeId as string, invoiceNo: header.invoiceNo as string });
  if (conflict) throw new SinkRefusedError('DynamoDB', [{ path: 'storeId', message: conflict }]);
  return 'superseded';
}

/**
 * Replaces an invoice whole with this version, unless a newer version is already there.
 * 1. The header is put on condition that the stored version is not newer (`<=`: a retry of the same version goes on,
 *    so a crash between the steps heals on redelivery) and that no other store owns the invoice number. A failed
 *    condition means a newer version won (nothing is written) or another store's invoice is there (SinkRefusedError:
 *    the record becomes a bad row, `ownershipConflict` of transactions says why).
 * 2. The line items are put (BatchWriteItem, UnprocessedItems retried).
 * 3. Line items beyond the new count (left by a longer older version) are deleted, so the header and lines agree.
 * Two versions of one invoice are never written at once: one partition key is one shard, read in order, and the
 * processor lands only the newest version of an invoice within a batch.
 * A refusal (ValidationException) becomes SinkRefusedError; the header of this version is then removed again.
 */
export async function replaceInvoiceItems(items: InvoiceItem[], version: string, target: DynamoDbTarget): Promise<'written' | 'superseded'> {
  const [header, ...lines] = items;
  if (!header) return 'written';
  try {
    await target.dynamodb.send(
      new PutCommand({ TableName: target.tableName, Item: header, ...headerGate, ExpressionAttributeValues: { ':version': version, ':store': header.storeId } }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return whyGateFailed(header, target);
    if (isDynamoDbRefusal(error)) throw new SinkRefusedError('DynamoDB', [{ path: 'header', message: error.message }]);
    throw error;
  }
  try {
    await putItems(lines, target);
  } catch (error) {
    if (!isDynamoDbRefusal(error)) throw error;
    await target.dynamodb.send(
      new DeleteCommand({ TableName: target.tableName, Key: { pk: header.pk, sk: HEADER_SK }, ConditionExpression: '#version = :version', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':version': version } }),
    ).catch(() => undefined);
    throw new SinkRefusedError('DynamoDB', [{ path: 'lines', message: error.message }]);
  }
  const current = new Set(lines.map((item) => item.sk));
  const stale: WriteRequest[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await target.dynamodb.send(
      new QueryCommand({
        TableName: target.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :lines)',
        ExpressionAttributeValues: { ':pk': header.pk, ':lines': LINES_SK_PREFIX },
        ProjectionExpression: 'pk, sk',
        ExclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) if (!current.has(item.sk as string)) stale.push({ DeleteRequest: { Key: { pk: item.pk as string, sk: item.sk as string } } });
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  await batchWrite(stale, target);
  return 'written';
}
