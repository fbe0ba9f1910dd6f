import { BatchWriteItemCommand, ConditionalCheckFailedException, TransactionCanceledException, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { DeleteCommand, NumberValue, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';

const fast = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2 };

type Item = Record<string, unknown> & { pk: string; sk: string };
type Request = { PutRequest?: { Item: Item }; DeleteRequest?: { Key: { pk: string; sk: string } } };
type WireRequest = { PutRequest?: { Item: Record<string, AttributeValue> }; DeleteRequest?: { Key: Record<string, AttributeValue> } };

/** A BatchWriteItem request as the writer meant it: whole numbers as numbers, exact decimals as NumberValue. */
const fromWire = (request: WireRequest): Request => {
  const read = (map: Record<string, AttributeValue>) => unmarshall(map, { wrapNumbers: (n) => (String(Number(n)) === n ? Number(n) : NumberValue.from(n)) }) as Item;
  return request.PutRequest ? { PutRequest: { Item: read(request.PutRequest.Item) } } : { DeleteRequest: { Key: read(request.DeleteRequest?.Key ?? {}) } };
};

/**
 * An in-memory table and delivery stream behind the two clients, with hooks to make calls fail the way AWS does:
 * `unprocessed` picks requests a BatchWriteItem leaves unprocessed (not written), `refuse` makes a call fail with
 * ValidationException, `failRecord` picks Firehose records answered with an ErrorCode (not delivered), `conflict`
 * cancels a TransactWriteItems call as a concurrent write would (TransactionConflict on its first item).
 */
export function fakeSinks(
  hooks: { unprocessed?: (request: Request, attempt: number) => boolean; refuse?: (item: Item) => boolean; failRecord?: (row: string, attempt: number) => boolean; conflict?: (items: Item[]) => boolean } = {},
) {
  const table = new Map<string, Item>();
  const delivered: string[] = [];
  const calls = { header: 0, transactions: [] as number[], batchWrite: [] as number[], query: 0, firehose: [] as number[] };
  let batchAttempt = 0;
  let firehoseAttempt = 0;
  const key = (pk: string, sk: string) => `${pk}|${sk}`;
  const dynamodb = {
    async send(command: unknown) {
      if (command instanceof PutCommand) {
        calls.header += 1;
        const item = command.input.Item as Item;
        const stored = table.get(key(item.pk, item.sk));
        if (stored && ((stored.version as string) > (item.version as string) || stored.storeId !== item.storeId)) {
          throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
        }
        table.set(key(item.pk, item.sk), item);
        return { Attributes: stored };
      }
      if (command instanceof TransactWriteCommand) {
        // Puts on condition attribute_not_exists(pk), all or nothing, as putFirstHeaders sends them.
        const items = (command.input.TransactItems ?? []).map((action) => action.Put?.Item as Item);
        calls.transactions.push(items.length);
        const conflict = hooks.conflict?.(items) ?? false;
        const reasons = items.map((item, index) => (conflict && index === 0 ? { Code: 'TransactionConflict' } : table.has(key(item.pk, item.sk)) ? { Code: 'ConditionalCheckFailed' } : { Code: 'None' }));
        if (reasons.some((reason) => reason.Code !== 'None')) {
          throw new TransactionCanceledException({ message: `Transaction cancelled [${reasons.map((reason) => reason.Code).join(', ')}]`, CancellationReasons: reasons, $metadata: {} });
        }
        for (const item of items) table.set(key(item.pk, item.sk), item);
        return {};
      }
      if (command instanceof BatchWriteItemCommand) {
        batchAttempt += 1;
        const wire = (Object.values(command.input.RequestItems ?? {})[0] ?? []) as WireRequest[];
        const requests = wire.map(fromWire);
        calls.batchWrite.push(requests.length);
        if (requests.length > 25) throw Object.assign(new Error('Too many items requested for the BatchWriteItem call'), { name: 'ValidationException' });
        if (requests.some((r) => r.PutRequest && hooks.refuse?.(r.PutRequest.Item))) {
          throw Object.assign(new Error('Number overflow. Attempting to store a number with magnitude larger than supported range'), { name: 'ValidationException' });
        }
        const left = requests.flatMap((r, index) => (hooks.unprocessed?.(r, batchAttempt) ? [index] : []));
        requests.forEach((r, index) => {
          if (left.includes(index)) return;
          if (r.PutRequest) table.set(key(r.PutRequest.Item.pk, r.PutRequest.Item.sk), r.PutRequest.Item);
          if (r.DeleteRequest) table.delete(key(r.DeleteRequest.Key.pk, r.DeleteRequest.Key.sk));
        });
        // As DynamoDB gives them back: copies of the wire requests, never the objects sent.
        return { UnprocessedItems: left.length ? { t: JSON.parse(JSON.stringify(left.map((index) => wire[index]))) } : {} };
      }
      if (command instanceof QueryCommand) {
        calls.query += 1;
        const values = command.input.ExpressionAttributeValues as Record<string, string>;
        const items = [...table.values()].filter((i) => i.pk === values[':pk'] && (values[':sk'] ? i.sk === values[':sk'] : i.sk.startsWith(values[':lines'] as string)));
        return { Items: items };
      }
      if (command instanceof DeleteCommand) {
        const { pk, sk } = command.input.Key as { pk: string; sk: string };
        if (table.get(key(pk, sk))?.version === command.input.ExpressionAttributeValues?.[':version']) table.delete(key(pk, sk));
        return {};
      }
      throw new Error(`unexpected command ${(command as object).constructor.name}`);
    },
  };
  const firehose = {
    async send(command: PutRecordBatchCommand) {
      firehoseAttempt += 1;
      const records = command.input.Records ?? [];
      calls.firehose.push(records.length);
      const responses = records.map((record) => {
        const text = Buffer.from(record.Data as Uint8Array).toString();
        if (hooks.failRecord?.(text, firehoseAttempt)) return { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' };
        delivered.push(...text.trim().split('\n'));
        return { RecordId: 'r' };
      });
      return { FailedPutCount: responses.filter((r) => 'ErrorCode' in r).length, RequestResponses: responses };
    },
  };
  const sinks = {
    table: { dynamodb: dynamodb as never, tableName: 't', retry: fast },
    warehouse: { firehose: firehose as never, deliveryStreamName: 'w', retry: fast },
    sleep: async () => undefined,
  };
  const linesOf = (invoiceNo: string) =>
    [...table.values()].filter((i) => i.pk === `INVOICE#${invoiceNo}` && i.sk.startsWith('LINES#')).flatMap((i) => (i.lines as Array<{ lineNo: number }>).map((l) => l.lineNo));
  const rowsOf = (invoiceNo: string) => delivered.map((row) => JSON.parse(row) as { invoice_no: string; line_no: number }).filter((r) => r.invoice_no === invoiceNo).map((r) => r.line_no);
  return { sinks, table, calls, linesOf, rowsOf, header: (invoiceNo: string) => table.get(key(`INVOICE#${invoiceNo}`, '#HEADER')) };
}

