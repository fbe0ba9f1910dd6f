import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { sendUntilAccepted, type RetryPolicy } from '@invoice-pipeline/retry';
import { SINK_RETRY } from './sink-retry';
import type { InvoiceItem } from './dynamodb-items';

const MAX_ITEMS_PER_BATCH_WRITE = 25;

export interface DynamoDbTarget {
  dynamodb: Pick<DynamoDBDocumentClient, 'send'>;
  tableName: string;
  retry?: RetryPolicy;
}

/** Puts every item (idempotent: same key, same content), retrying UnprocessedItems with backoff until none is left. */
export async function putItems(items: InvoiceItem[], target: DynamoDbTarget): Promise<void> {
  for (let start = 0; start < items.length; start += MAX_ITEMS_PER_BATCH_WRITE) {
    const batch = items.slice(start, start + MAX_ITEMS_PER_BATCH_WRITE);
    await sendUntilAccepted(
      batch,
      async (pending) => {
        const reply = await target.dynamodb.send(
          new BatchWriteCommand({ RequestItems: { [target.tableName]: pending.map((Item) => ({ PutRequest: { Item } })) } }),
        );
        return (reply.UnprocessedItems?.[target.tableName] ?? []).map((request) => request.PutRequest?.Item as InvoiceItem);
      },
      target.retry ?? SINK_RETRY,
      `DynamoDB ${target.tableName}`,
    );
  }
}
