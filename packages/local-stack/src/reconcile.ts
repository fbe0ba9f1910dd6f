import { ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { formatMillis, HEADER_SK, invoiceNoOfKey, invoiceTypeOf, normaliseInvoice, parseInvoice, parseMillis, S3_PREFIXES, type InvoiceType, type NormalisedLine } from '@invoice-pipeline/transactions';
import { WAREHOUSE_TABLES } from '@invoice-pipeline/warehouse';
import { isGzipStart, Tally, type Totals } from '@invoice-pipeline/transactions/files';
import { gunzipSync } from 'node:zlib';
import { readStreamRecords } from '@invoice-pipeline/local-emulators';
import { parseJsonObjects } from '@invoice-pipeline/local-firehose';
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

/** Totals of lines counted once per (invoiceNo, lineNo), as the keyed sinks hold them; `repeated` counts the others. */
export class KeyedTally {
  private readonly tally = new Tally();
  private readonly seen = new Set<string>();
  repeated = 0;

  add(lines: Iterable<NormalisedLine>): void {
    for (const line of lines) {
      const key = `${line.invoiceNo}#${line.lineNo}`;
      if (this.seen.has(key)) this.repeated += 1;
      else {
        this.seen.add(key);
        this.tally.add(line);
      }
    }
  }

  totals(): Totals {
    return this.tally.totals();
  }
}

/** Tally of invoices, deduplicated on (invoiceNo, lineNo) as the keyed sinks would. */
function tallyInvoices(payloads: unknown[]): SinkTotals {
  const tally = new KeyedTally();
  let invalidRecords = 0;
  for (const payload of payloads) {
    const parsed = parseInvoice(payload);
    if (parsed.ok) tally.add(normaliseInvoice(parsed.value));
    else invalidRecords += 1;
  }
  return { ...tally.totals(), records: payloads.length, duplicateLines: tally.repeated, invalidRecords };
}

function parseOrKeep(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Every record of the stream, from the trim horizon. */
export async function readStreamTotals(kinesis: KinesisClient, streamName: string): Promise<SinkTotals> {
  return tallyInvoices((await readStreamRecords(kinesis, streamName)).map((record) => parseOrKeep(record.data)));
}

async function readObjects(s3: S3Client, bucket: string, prefix: string): Promise<Buffer[]> {
  const bodies: Buffer[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }));
    for (const object of page.Contents ?? []) {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }));
      const bytes = Buffer.from(await (got.Body?.transformToByteArray() ?? Promise.resolve(new Uint8Array())));
      bodies.push(isGzipStart(bytes) ? gunzipSync(bytes) : bytes);
    }
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  return bodies;
}

/** The raw archive: Firehose concatenates records as sent, so the objects are JSON invoices back to back. */
export async function readArchiveTotals(s3: S3Client, bucket: string, prefix: string = S3_PREFIXES.raw): Promise<SinkTotals> {
  const payloads = (await readObjects(s3, bucket, prefix)).flatMap((body) => parseJsonObjects(body.toString('utf8')));
  return tallyInvoices(payloads);
}

/** Bad records set aside by the stream processor, one object each. */
export async function countBadRecords(s3: S3Client, bucket: string, prefix: string = S3_PREFIXES.badRows): Promise<number> {
  return (await readObjects(s3, bucket, prefix)).length;
}

/** The invoice table: every line of every LINES# item (headers carry counts, lines carry the amounts). */
export async function readDynamoDbTotals(dynamodb: DynamoDBClient, tableName: string): Promise<SinkTotals> {
  const tally = new Tally();
  let headers = 0;
  let ExclusiveStartKey: Record<string, never> | undefined;
  do {
    const page = await dynamodb.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey }));
    for (const raw of page.Items ?? []) {
      const item = unmarshall(raw, { wrapNumbers: true }) as { pk: string; sk: string; lines?: Array<{ lineTotal: { value: string } }> };
      if (item.sk === HEADER_SK) headers += 1;
      const invoiceNo = invoiceNoOfKey(item.pk);
      for (const line of item.lines ?? []) tally.add({ invoiceNo, invoiceType: invoiceTypeOf(invoiceNo), lineTotal: line.lineTotal.value });
    }
    ExclusiveStartKey = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (ExclusiveStartKey);
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
