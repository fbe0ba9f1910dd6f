/**
 * What every sink can store, in one place. The schema accepts only values all of them take, so an accepted
 * invoice can never fail a sink (and, in a warehouse load, sink the rows loaded with it):
 *
 * - the warehouse (Redshift / Postgres): NUMERIC precision and scale of the money columns, INTEGER quantities,
 *   VARCHAR sizes (Redshift counts a VARCHAR's length in bytes, not characters), no NUL in text;
 * - DynamoDB: numbers of at most 38 significant digits, items of at most 400 KB;
 * - Firehose: records of at most 1,000 KiB (a warehouse row must fit one);
 * - every sink: text is valid Unicode (a lone surrogate has no UTF-8 form).
 *
 * The warehouse's own definition (packages/warehouse, tables.json) states the same column types; a test there fails
 * when the two drift apart.
 */

export interface NumericType {
  precision: number;
  scale: number;
}

export const numericSql = ({ precision, scale }: NumericType) => `NUMERIC(${precision},${scale})`;
export const varcharSql = (bytes: number) => `VARCHAR(${bytes})`;

/** The warehouse column types of the bounded fields of a line. */
export const WAREHOUSE_TYPES = {
  invoiceNo: { varcharBytes: 24 },
  customerId: { varcharBytes: 64 },
  storeId: { varcharBytes: 64 },
  country: { varcharBytes: 2000 },
  stockCode: { varcharBytes: 2000 },
  description: { varcharBytes: 2000 },
  /** INTEGER: a signed 32-bit integer on both engines. */
  quantity: { min: -(2 ** 31), max: 2 ** 31 - 1 },
  unitPrice: { precision: 18, scale: 3 },
  lineTotal: { precision: 20, scale: 3 },
} as const satisfies Record<string, { varcharBytes: number } | { min: number; max: number } | NumericType>;

export const DYNAMODB_LIMITS = { numberDigits: 38, itemBytes: 400 * 1024 } as const;
export const FIREHOSE_LIMITS = { recordBytes: 1_000 * 1024 } as const;

/**
 * Maximum UTF-8 bytes of each text field the schema accepts: at most its VARCHAR size, and small enough that a
 * DynamoDB item of 100 packed lines (the stream processor's layout) stays far under 400 KB. The real data's
 * longest values are 12 (stock code), 35 (description) and 20 (country) bytes.
 */
export const TEXT_MAX_BYTES = {
  stockCode: 200,
  description: 2000,
  country: 2000,
} as const satisfies Partial<Record<keyof typeof WAREHOUSE_TYPES, number>>;

/** Integer digits a NUMERIC(p,s) column holds: p - s. */
export const integerDigits = ({ precision, scale }: NumericType) => precision - scale;

/** Largest magnitude, in thousandths, that a NUMERIC(p,3) column holds: 10^p - 1. */
export function maxMillis(type: NumericType): bigint {
  return 10n ** BigInt(type.precision) - 1n;
}

/** Bytes of a string as UTF-8 (what Redshift's VARCHAR length counts). */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why no sink can store this text, or undefined when every sink can (NUL: Redshift and Postgres refuse it). */
export function unstorableTextReason(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain the NUL character (U+0000)';
  if (LONE_SURROGATE.test(text)) return 'must be valid Unicode (it holds a lone UTF-16 surrogate, which has no UTF-8 form)';
  return undefined;
}
