import { createHash } from 'node:crypto';
import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { invoiceTypeOf, type CustomerInvoicesRequest, type InvoiceReply, type StoredLine } from '@invoice-pipeline/transactions';
import { CUSTOMER_INDEX, customerKey, customerSortKey, HEADER_SK, invoiceKey, linesSk } from '@invoice-pipeline/transactions';

/**
 * Reads of the invoice table, over the layout of dynamodb-items.ts (imported, never restated). Plain functions: the
 * client and table come in as arguments. Numbers are read as the exact decimal strings they were written as (the
 * client must unmarshall with wrapNumbers; a plain number is accepted too).
 */

export interface InvoiceTable {
  dynamodb: Pick<DynamoDBDocumentClient, 'send'>;
  tableName: string;
}

type Item = Record<string, unknown>;

/** The exact text of a DynamoDB number, whether the client wrapped it (NumberValue) or not. */
const decimalText = (value: unknown) => String(value);
const integer = (value: unknown) => Number(String(value));

async function queryAll(table: InvoiceTable, input: Omit<ConstructorParameters<typeof QueryCommand>[0], 'TableName'>): Promise<Item[]> {
  const items: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page: QueryCommandOutput = await table.dynamodb.send(new QueryCommand({ ...input, TableName: table.tableName, ExclusiveStartKey: start }));
    items.push(...((page.Items ?? []) as Item[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

function headerReply(header: Item): InvoiceReply {
  const invoiceNo = String(header.invoiceNo);
  return {
    invoiceNo,
    invoiceType: invoiceTypeOf(invoiceNo),
    invoiceDate: String(header.invoiceDate),
    customerId: header.customerId === null || header.customerId === undefined ? null : String(header.customerId),
    country: String(header.country),
    storeId: String(header.storeId),
    lineCount: integer(header.lineCount),
    total: decimalText(header.total),
  };
}

function storedLines(items: Item[], header: Item): StoredLine[] {
  // Only the line items the header names: items a longer earlier version left behind are never shown.
  const wanted = new Set(Array.from({ length: integer(header.lineItems) }, (_, index) => linesSk(index + 1)));
  return items
    .filter((item) => wanted.has(String(item.sk)))
    .sort((a, b) => String(a.sk).localeCompare(String(b.sk)))
    .flatMap((item) => (item.lines as Item[]) ?? [])
    .map((line) => ({
      lineNo: integer(line.lineNo),
      invoiceDate: String(line.invoiceDate),
      stockCode: String(line.stockCode),
      description: line.description === null || line.description === undefined ? null : String(line.description),
      quantity: integer(line.quantity),
      unitPrice: decimalText(line.unitPrice),
      lineTotal: decimalText(line.lineTotal),
    }));
}

/** The invoice is being rewritten (its header and line items disagree): the caller should retry shortly. */
export class InvoiceInFlux extends Error {
  override name = 'InvoiceInFlux';
}

/** An invoice with its lines in line order (one Query on its partition), or undefined when there is none. */
export async function getInvoice(table: InvoiceTable, invoiceNo: string): Promise<InvoiceReply | undefined> {
  const items = await queryAll(table, { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': invoiceKey(invoiceNo) }, ConsistentRead: true });
  const header = items.find((item) => item.sk === HEADER_SK);
  if (!header) return undefined;
  const lines = storedLines(items, header);
  const reply = headerReply(header);
  if (lines.length !== reply.lineCount) throw new InvoiceInFlux(`invoice ${invoiceNo}: header says ${reply.lineCount} lines, ${lines.length} found`);
  return { ...reply, lines };
}

/** A strong ETag of what a reply says: changes exactly when the invoice does. */
export function etagOf(reply: InvoiceReply): string {
  return `"${createHash('sha256').update(JSON.stringify(reply)).digest('base64url').slice(0, 27)}"`;
}

/** The key of an item of the byCustomer index: what DynamoDB gives as LastEvaluatedKey and takes as ExclusiveStartKey. */
interface CursorKey {
  pk: string;
  sk: string;
  customerPk: string;
  customerSk: string;
}
const CURSOR_FIELDS = ['customerPk', 'customerSk', 'pk', 'sk'];

function isCursorKey(value: unknown): value is CursorKey {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const entries = Object.entries(value);
  return entries.length === CURSOR_FIELDS.length && entries.every(([name, field]) => CURSOR_FIELDS.includes(name) && typeof field === 'string');
}

export class BadCursor extends Error {
  override name = 'BadCursor';
}

/** The position after the last invoice of a page, opaque to the caller (base64url JSON of the index key). */
export function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string, customerId: string): CursorKey {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new BadCursor('is not a cursor this API gave');
  }
  if (!isCursorKey(key) || key.customerPk !== customerKey(customerId)) throw new BadCursor('is not a cursor of this customer\'s invoices');
  return key;
}

/** A customer's invoices, newest first, one page at a time (the sparse byCustomer index: guest sales are not in it). */
export async function listCustomerInvoices(table: InvoiceTable, request: CustomerInvoicesRequest): Promise<{ invoices: InvoiceReply[]; nextCursor: string | null }> {
  const start = request.cursor ? decodeCursor(request.cursor, request.customerId) : undefined;
  // customerSk is "<invoiceDate>#<invoiceNo>"; "~" sorts after every invoice number.
  const from = customerSortKey(request.from ?? '0000-00-00T00:00:00', '');
  const to = customerSortKey(request.to ?? '9999-12-31T23:59:59', '~');
  const page = await table.dynamodb.send(
    new QueryCommand({
      TableName: table.tableName,
      IndexName: CUSTOMER_INDEX,
      KeyConditionExpression: 'customerPk = :customer AND customerSk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':customer': customerKey(request.customerId), ':from': from, ':to': to },
      ScanIndexForward: false,
      Limit: request.pageSize,
      ExclusiveStartKey: start,
    }),
  );
  const headers = (page.Items ?? []) as Item[];
  const invoices: InvoiceReply[] = [];
  for (const header of headers) {
    const reply = request.withLines ? await getInvoice(table, String(header.invoiceNo)) : headerReply(header);
    // An invoice rewritten between the index read and now is shown as it is now; one gone meanwhile is skipped.
    if (reply) invoices.push(reply);
  }
  const last = page.LastEvaluatedKey;
  return { invoices, nextCursor: last ? encodeCursor(last) : null };
}
