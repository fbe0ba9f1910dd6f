import { GetItemCommand, ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { formatMillis, HEADER_SK, invoiceNoOfKey, invoiceTypeOf, parseInvoice, parseMillis, S3_PREFIXES, type InvoiceType } from '@invoice-pipeline/transactions';
import { WAREHOUSE_TABLES } from '@invoice-pipeline/warehouse';
import { InvoiceTally, isGzipStart, lineTotalsOf, Tally, type Totals } from '@invoice-pipeline/transactions/files';
import { gunzipSync } from 'node:zlib';
import { streamRecordPages, utf8Text } from '@invoice-pipeline/local-emulators';
import { jsonObjectSpans, parseJsonObjectAt } from '@invoice-pipeline/local-firehose';
import type { Warehouse } from './warehouse';

/**
 * Reads what each sink holds, as Totals (invoices, lines, exact revenue, by type), to reconcile them with the source.
 * Stream and archive hold records as sent: `duplicateLines` counts lines seen more than once there (a re-POST), which
 * the keyed sinks (DynamoDB, warehouse) collapse.
 */
export interface SinkTotals extends Totals {
  records?: number;
  duplicateLines?: number;
  invalidRecords?: number;
}

/** What a valid record holds for the tally: its invoice number and its lines' exact totals. */
interface ValidRecord {
  invoiceNo: string;
  lineTotals: bigint[];
}

/** A record's text read as JSON, and whether every reader reads that text alike (see SharedRecords). */
interface ReadRecord {
  payload: unknown;
  sameForEveryReader: boolean;
}

/** A JSON object with no number at its top level: JSON.parse and the archive's COPY-style parse give the same object. */
const readAlike = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value) && !Object.values(value).some((member) => typeof member === 'number');

/**
 * What record texts validated to, shared by the readers of one reconciliation: the stream and the raw archive hold the
 * same records, byte for byte, so each text is parsed and validated once instead of once a sink. Keyed by the exact
 * text (a record that differs by one byte is validated on its own), and only for texts every reader parses alike; an
 * entry is dropped once another reader took it, so it holds what one reader is ahead of the other.
 */
export class SharedRecords {
  private readonly byText = new Map<string, ValidRecord | null>();

  take(text: string): ValidRecord | null | undefined {
    const result = this.byText.get(text);
    if (result !== undefined) this.byText.delete(text);
    return result;
  }

  keep(text: string, result: ValidRecord | null): void {
    this.byText.set(text, result);
  }
}

/** Records as sent (stream, archive): each validated as the stream processor would, valid ones tallied per invoice. */
class RecordTally {
  private readonly invoices = new InvoiceTally();
  private records = 0;
  private invalidRecords = 0;

  constructor(private readonly shared: SharedRecords | undefined) {}

  add(text: string, read: (text: string) => ReadRecord): void {
    this.records += 1;
    let result = this.shared?.take(text);
    if (result === undefined) {
      const { payload, sameForEveryReader } = read(text);
      const parsed = parseInvoice(payload);
      result = parsed.ok ? { invoiceNo: parsed.value.invoiceNo, lineTotals: lineTotalsOf(parsed.value) } : null;
      if (sameForEveryReader) this.shared?.keep(text, result);
    }
    if (result) this.invoices.addLineTotals(result.invoiceNo, result.lineTotals);
    else this.invalidRecords += 1;
  }

  totals(): SinkTotals {
    return { ...this.invoices.totals(), records: this.records, duplicateLines: this.invoices.repeated, invalidRecords: this.invalidRecords };
  }
}

/** A stream record: JSON, or its text as it is when it is not JSON (then invalid, as the stream processor finds it). */
function readStreamRecord(text: string): ReadRecord {
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    return { payload: text, sameForEveryReader: false };
  }
  return { payload, sameForEveryReader: readAlike(payload) };
}

/**
 * Every record of the stream, from the trim horizon, tallied a page at a time (the next page is on its way meanwhile).
 * `shared`: the same SharedRecords given to readArchiveTotals, when both read at once.
 */
export async function readStreamTotals(kinesis: KinesisClient, streamName: string, shared?: SharedRecords): Promise<SinkTotals> {
  const tally = new RecordTally(shared);
  for await (const page of streamRecordPages(kinesis, streamName)) for (const record of page) tally.add(record.data, readStreamRecord);
  return tally.totals();
}

/** Keys under `prefix`, in key order (the listing's). */
async function* objectKeys(s3: S3Client, bucket: string, prefix: string): AsyncGenerator<string> {
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }));
    for (const object of page.Contents ?? []) if (object.Key !== undefined) yield object.Key;
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
}

/** GETs at most this many objects ahead of the one being read. */
const OBJECTS_AHEAD = 4;

/** The body of every object under `prefix`, gunzipped, in key order, with the next few GETs in flight meanwhile. */
async function* objectBodies(s3: S3Client, bucket: string, prefix: string): AsyncGenerator<Buffer> {
  const get = (Key: string) => {
    const body = s3.send(new GetObjectCommand({ Bucket: bucket, Key })).then(async (got) => {
      const bytes = Buffer.from(await (got.Body?.transformToByteArray() ?? Promise.resolve(new Uint8Array())));
      return isGzipStart(bytes) ? gunzipSync(bytes) : bytes;
    });
    body.catch(() => undefined); // awaited in order below; one that fails while an earlier is read must not go unhandled
    return body;
  };
  const pending: Array<Promise<Buffer>> = [];
  for await (const key of objectKeys(s3, bucket, prefix)) {
    pending.push(get(key));
    if (pending.length > OBJECTS_AHEAD) yield await (pending.shift() as Promise<Buffer>);
  }
  while (pending.length) yield await (pending.shift() as Promise<Buffer>);
}

/**
 * An archived record, read as the local COPY reads JSON (parseJsonObjectAt: a top-level number keeps its literal text;
 * not JSON: the reconciliation fails). An object with no number at its top level is what JSON.parse gives, so that is
 * tried first and the COPY-style parse runs only for the others.
 */
function readArchivedRecord(body: string, start: number, end: number) {
  return (text: string): ReadRecord => {
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      payload = undefined;
    }
    return readAlike(payload) ? { payload, sameForEveryReader: true } : { payload: parseJsonObjectAt(body, start, end), sameForEveryReader: false };
  };
}

/**
 * The raw archive: Firehose concatenates records as sent, so the objects are JSON invoices back to back. `shared`: the
 * same SharedRecords given to readStreamTotals, when both read at once.
 */
export async function readArchiveTotals(s3: S3Client, bucket: string, prefix: string = S3_PREFIXES.raw, shared?: SharedRecords): Promise<SinkTotals> {
  const tally = new RecordTally(shared);
  for await (const bytes of objectBodies(s3, bucket, prefix)) {
    const body = utf8Text(bytes);
    for (const [start, end] of jsonObjectSpans(body)) tally.add(body.slice(start, end), readArchivedRecord(body, start, end));
  }
  return tally.totals();
}

/** Bad records set aside by the stream processor, one object each (counted from the listing). */
export async function countBadRecords(s3: S3Client, bucket: string, prefix: string = S3_PREFIXES.badRows): Promise<number> {
  const keys: string[] = [];
  for await (const key of objectKeys(s3, bucket, prefix)) keys.push(key);
  return keys.length;
}

/** Scan segments read at once: dynalite serves one page while this process adds up another. */
export const SCAN_SEGMENTS = 4;
/**
 * Line totals asked of each LINES# item (the stream processor packs 100 lines an item, see its dynamodb-items.ts): a
 * projection of only what the tally needs, about a seventh of each line's bytes. One more is asked, so an item with more
 * lines than that shows it, and is read whole instead.
 */
const PROJECTED_LINES = 100;
const PROJECTION = {
  ProjectionExpression: ['#pk', '#sk', ...Array.from({ length: PROJECTED_LINES + 1 }, (_, index) => `#lines[${index}].#lineTotal`)].join(', '),
  ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', '#lines': 'lines', '#lineTotal': 'lineTotal' },
};

type InvoiceTableItem = { pk: string; sk: string; lines?: Array<{ lineTotal: { value: string } }> };
const unmarshallItem = (raw: Record<string, AttributeValue>) => unmarshall(raw, { wrapNumbers: true }) as InvoiceTableItem;

export interface ScanOptions {
  /** Parallel scan segments (TotalSegments); 1: one sequential Scan. */
  segments?: number;
  /** Items per Scan call (Limit); default: DynamoDB's 1 MB pages. */
  pageLimit?: number;
}

/** The invoice table: every line of every LINES# item (headers carry counts, lines carry the amounts). */
export async function readDynamoDbTotals(dynamodb: DynamoDBClient, tableName: string, options: ScanOptions = {}): Promise<SinkTotals> {
  const { segments = SCAN_SEGMENTS, pageLimit } = options;
  const tally = new Tally();
  let headers = 0;
  const addItem = (item: InvoiceTableItem) => {
    if (item.sk === HEADER_SK) headers += 1;
    if (!item.lines?.length) return;
    const invoiceNo = invoiceNoOfKey(item.pk);
    let millis = 0n;
    for (const line of item.lines) {
      const total = parseMillis(line.lineTotal.value);
      if (total === undefined) throw new RangeError(`line ${invoiceNo}: lineTotal is not exact: ${line.lineTotal.value}`);
      millis += total;
    }
    tally.addLines(invoiceNo, invoiceTypeOf(invoiceNo), item.lines.length, millis);
  };
  const readWhole = async ({ pk, sk }: InvoiceTableItem) => {
    const { Item } = await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }));
    if (!Item) throw new Error(`${tableName}: item ${pk} ${sk} was scanned but is gone`);
    return unmarshallItem(Item);
  };
  const scanSegment = async (segment: number) => {
    let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await dynamodb.send(
        new ScanCommand({ TableName: tableName, ExclusiveStartKey, Limit: pageLimit, ...PROJECTION, ...(segments > 1 ? { Segment: segment, TotalSegments: segments } : {}) }),
      );
      for (const raw of page.Items ?? []) {
        const item = unmarshallItem(raw);
        addItem(item.lines && item.lines.length > PROJECTED_LINES ? await readWhole(item) : item);
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
  };
  await Promise.all(Array.from({ length: segments }, (_, segment) => scanSegment(segment)));
  const totals = tally.totals();
  return { ...totals, records: headers };
}

/** The table analysts read (after the merge), plus what is still staged. */
export async function readWarehouseTotals(warehouse: Pick<Warehouse, 'query'>): Promise<SinkTotals & { staged: number }> {
  const rows = await warehouse.query<{ invoice_type: InvoiceType; lines: number; revenue: string }>(
    `SELECT invoice_type, count(*)::int AS lines, sum(line_total)::text AS revenue FROM ${WAREHOUSE_TABLES.lines} GROUP BY invoice_type`,
  );
  const [{ invoices = 0 } = {}] = await warehouse.query<{ invoices: number }>(`SELECT count(DISTINCT invoice_no)::int AS invoices FROM ${WAREHOUSE_TABLES.lines}`);
  const [{ staged = 0 } = {}] = await warehouse.query<{ staged: number }>(`SELECT count(*)::int AS staged FROM ${WAREHOUSE_TABLES.staging}`);
  const byType: Totals['byType'] = { sale: { lines: 0, revenue: '0' }, cancellation: { lines: 0, revenue: '0' }, adjustment: { lines: 0, revenue: '0' } };
  let lines = 0;
  let revenue = 0n;
  for (const row of rows) {
    const millis = parseMillis(row.revenue) ?? 0n;
    byType[row.invoice_type] = { lines: Number(row.lines), revenue: formatMillis(millis) };
    lines += Number(row.lines);
    revenue += millis;
  }
  return { invoices: Number(invoices), lines, revenue: formatMillis(revenue), byType, staged: Number(staged) };
}
