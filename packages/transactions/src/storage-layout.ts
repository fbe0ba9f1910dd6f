/**
 * Where the sinks keep invoices: the DynamoDB key layout and the S3 prefixes. The writers (stream processor, Firehose
 * settings, batch loader) and every reader (read API, reconciliation, dashboard, redrive) take them from here.
 * `serverless.yml` files repeat the prefixes in IAM resources and Firehose settings; a template test checks them.
 */

/** DynamoDB: pk = INVOICE#<invoiceNo>, sk = #HEADER or LINES#<nnnn>; the sparse GSI byCustomer on the headers. */
export const INVOICE_PK_PREFIX = 'INVOICE#';
export const HEADER_SK = '#HEADER';
export const LINES_SK_PREFIX = 'LINES#';
export const CUSTOMER_INDEX = 'byCustomer';
export const CUSTOMER_PK_PREFIX = 'CUSTOMER#';

export const invoiceKey = (invoiceNo: string) => `${INVOICE_PK_PREFIX}${invoiceNo}`;
/** The invoice number of an item's pk (the inverse of invoiceKey). */
export const invoiceNoOfKey = (pk: string) => (pk.startsWith(INVOICE_PK_PREFIX) ? pk.slice(INVOICE_PK_PREFIX.length) : pk);
export const linesSk = (chunk: number) => `${LINES_SK_PREFIX}${String(chunk).padStart(4, '0')}`;
export const customerKey = (customerId: string) => `${CUSTOMER_PK_PREFIX}${customerId}`;
export const customerSortKey = (invoiceDate: string, invoiceNo: string) => `${invoiceDate}#${invoiceNo}`;

/** S3 prefixes: the raw archive bucket, the dumps bucket and what is set aside in each. */
export const S3_PREFIXES = {
  /** Raw archive: every record as delivered, by day (Firehose). */
  raw: 'raw/',
  /** Raw archive: one JSON object per record the stream processor set aside, with its reason and stream position. */
  badRows: 'bad-rows/',
  /** Raw archive: failure-queue batches `pnpm redrive` could not read back from the stream (past its retention), kept for a person. */
  failuresKept: 'failures-kept/',
  /** Firehose's error output (raw archive and warehouse staging buckets); never expires until replayed. */
  firehoseErrors: 'firehose-errors/',
  /** Warehouse staging bucket: the warehouse rows Firehose stages, gzip JSON, until the loader COPYs them; never expires. */
  warehouseStaged: 'warehouse/',
  /** Warehouse staging bucket: staged files once their load committed, moved here by the loader (same key after the prefix); expire. */
  warehouseLoaded: 'loaded/',
  /** Warehouse staging bucket: the loader's COPY manifests, one per load. */
  copyManifests: 'manifests/',
  /** Dumps bucket: where a dump is dropped to be loaded. */
  incoming: 'incoming/',
  /** Dumps bucket: dumps loaded, kept for a while. */
  processed: 'processed/',
  /** Dumps bucket: refused files and rejected rows, one JSON line per row. */
  rejected: 'rejected/',
} as const;
