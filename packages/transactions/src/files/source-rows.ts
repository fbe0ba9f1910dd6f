import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import { canonicalDecimal } from '../money';
import { INVOICE_NO_PATTERN, isValidLocalDateTime } from '../schemas';

/**
 * Reading the dataset's CSV files. Both real layouts share one header:
 *   by-day: UTF-8, LF, `2010-12-01 08:26:00`, customer `17850.0`, price `18.0`
 *   Kaggle `data.csv`: latin-1, CRLF, `12/1/2010 8:26`; its spreadsheet-rewritten tail also has
 *   `11/25/11 11:02` (m/d/yy) and `12-09-11 12:50` (mm-dd-yy), all month first.
 * The date style is chosen per row by an anchored pattern, the text encoding per field, and gzip by its magic
 * bytes, so a file never needs to declare what it is. Text fields are kept exactly as written.
 */

export const CSV_HEADER = ['InvoiceNo', 'StockCode', 'Description', 'Quantity', 'InvoiceDate', 'UnitPrice', 'CustomerID', 'Country'] as const;

/** One parsed data row of a source file, values already in their canonical types. */
export interface SourceRow {
  file: string;
  /** 1-based line of the file where the row ends (the header is line 1). */
  line: number;
  invoiceNo: string;
  stockCode: string;
  description: string | null;
  quantity: number;
  unitPrice: string;
  invoiceDate: string;
  customerId: string | null;
  country: string;
}

/** A row that could not be read, with where and why. Bad rows are reported, never dropped silently. */
export interface BadRow {
  file: string;
  /** 1-based line of the file (the header is line 1). */
  line: number;
  field: string;
  reason: string;
  raw: string;
}

export type RowResult = { ok: true; row: SourceRow } | { ok: false; badRow: BadRow };

export type TextEncodingMode = 'auto' | 'utf8' | 'latin1';

const DATE_STYLES: ReadonlyArray<{ pattern: RegExp; order: 'ymd' | 'mdy' }> = [
  { pattern: /^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$/, order: 'ymd' },
  { pattern: /^(\d{1,2})\/(\d{1,2})\/(\d{4}|\d{2}) (\d{1,2}):(\d{2})(?::(\d{2}))?$/, order: 'mdy' },
  { pattern: /^(\d{1,2})-(\d{1,2})-(\d{2}) (\d{1,2}):(\d{2})(?::(\d{2}))?$/, order: 'mdy' },
];

const pad = (value: string, width = 2) => value.padStart(width, '0');

const dateCache = new Map<string, string | undefined>();

/** Parses every date style of the dataset into `YYYY-MM-DDTHH:mm:ss`; two-digit years are 20yy. */
export function parseSourceDate(text: string): string | undefined {
  // Rows of an invoice share a timestamp: a small memo saves most of the work.
  if (dateCache.has(text)) return dateCache.get(text);
  if (dateCache.size > 10_000) dateCache.clear();
  const parsed = parseDateStyles(text);
  dateCache.set(text, parsed);
  return parsed;
}

function parseDateStyles(text: string): string | undefined {
  for (const { pattern, order } of DATE_STYLES) {
    const match = pattern.exec(text);
    if (!match) continue;
    const [a, b, c, hour, minute, second = '00'] = match.slice(1) as [string, string, string, string, string, string?];
    const [year, month, day] = order === 'ymd' ? [a, b, c] : [c.length === 2 ? `20${c}` : c, a, b];
    const iso = `${year}-${pad(month)}-${pad(day)}T${pad(hour)}:${minute}:${second}`;
    return isValidLocalDateTime(iso) ? iso : undefined;
  }
  return undefined;
}

const priceCache = new Map<string, string | undefined>();
/** Prices repeat across rows (a few thousand distinct in the whole set), so their canonical form is memoised. */
function canonicalPrice(text: string): string | undefined {
  if (priceCache.has(text)) return priceCache.get(text);
  if (priceCache.size > 50_000) priceCache.clear();
  const canonical = canonicalDecimal(text);
  priceCache.set(text, canonical);
  return canonical;
}

const CUSTOMER_PATTERN = /^(\d{1,20})(?:\.0+)?$/;
const QUANTITY_PATTERN = /^[+-]?\d{1,10}$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Fields arrive decoded as latin-1 (one char per byte, lossless). In `auto` mode a field whose bytes form valid
 * multi-byte UTF-8 is re-read as UTF-8 (`C2 A3` is "£" in the by-day files), otherwise it stays latin-1
 * (`A3` is "£" in the Kaggle files). Pure ASCII is the same either way.
 */
function decodeField(field: string, mode: TextEncodingMode): string {
  if (mode === 'latin1' || !/[\x80-\xff]/.test(field)) return field;
  const bytes = Buffer.from(field, 'latin1');
  if (mode === 'utf8') return bytes.toString('utf8');
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return field;
  }
}

/** Turns the raw fields of one data row into a SourceRow, or says which field is wrong and why. */
export function parseSourceRow(fields: string[], file: string, line: number, mode: TextEncodingMode = 'auto'): RowResult {
  const raw = fields.join(',');
  const bad = (field: string, reason: string): RowResult => ({ ok: false, badRow: { file, line, field, reason, raw } });
  if (fields.length !== CSV_HEADER.length) return bad('(row)', `expected ${CSV_HEADER.length} fields, found ${fields.length}`);
  const [invoiceNo, stockCode, description, quantity, invoiceDate, unitPrice, customerId, country] = fields.map((field) =>
    decodeField(field, mode),
  ) as [string, string, string, string, string, string, string, string];

  if (!INVOICE_NO_PATTERN.test(invoiceNo)) return bad('InvoiceNo', `not an invoice number: ${JSON.stringify(invoiceNo)}`);
  if (stockCode === '') return bad('StockCode', 'empty');
  if (!QUANTITY_PATTERN.test(quantity)) return bad('Quantity', `not a whole number: ${JSON.stringify(quantity)}`);
  const date = parseSourceDate(invoiceDate);
  if (date === undefined) return bad('InvoiceDate', `not a date in a known style: ${JSON.stringify(invoiceDate)}`);
  const price = canonicalPrice(unitPrice);
  if (price === undefined) return bad('UnitPrice', `not an exact decimal with at most 3 decimals: ${JSON.stringify(unitPrice)}`);
  const customer = customerId === '' ? null : CUSTOMER_PATTERN.exec(customerId)?.[1];
  if (customer === undefined) return bad('CustomerID', `not a customer id: ${JSON.stringify(customerId)}`);
  if (country === '') return bad('Country', 'empty');

  return {
    ok: true,
    row: {
      file,
      line,
      invoiceNo,
      stockCode,
      description: description === '' ? null : description,
      quantity: Number(quantity),
      unitPrice: price,
      invoiceDate: date,
      customerId: customer,
      country,
    },
  };
}

export interface ReadRowsOptions {
  /** Name reported in bad rows and summaries. */
  file?: string;
  encoding?: TextEncodingMode;
}

/** gzip's magic bytes: a source is gzip by its content, whatever its name says. */
export const isGzipStart = (bytes: Uint8Array): boolean => bytes[0] === 0x1f && bytes[1] === 0x8b;

/** Undoes gzip when the stream starts with its magic bytes. */
export async function* gunzipIfNeeded(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const iterator = input[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const all = (async function* () {
    yield first.value;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  })();
  if (isGzipStart(first.value)) {
    yield* pipeline(Readable.from(all), createGunzip(), () => {}) as AsyncIterable<Buffer>;
  } else {
    yield* all;
  }
}

/**
 * Streams the rows of one CSV source (plain or gzip). Every data row yields either a SourceRow or a BadRow;
 * a malformed row (broken quoting, wrong field count) becomes a BadRow and reading goes on.
 */
export async function* readSourceRows(input: AsyncIterable<Buffer>, options: ReadRowsOptions = {}): AsyncGenerator<RowResult> {
  const file = options.file ?? 'input';
  const mode = options.encoding ?? 'auto';
  const skipped: BadRow[] = [];
  const parser = parse({
    encoding: 'latin1',
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    relax_quotes: true,
    // raw text is kept so a bad row shows exactly what was in the file
    raw: true,
    on_skip: (error, raw) => {
      // csv-parse reports the line it stopped on; the next record starts after it.
      const errorLine = (error as { lines?: number } | undefined)?.lines ?? line;
      line = errorLine;
      skipped.push({ file, line: errorLine, field: '(row)', reason: error?.message ?? 'unreadable CSV', raw: raw ?? '' });
    },
  });
  // Line numbers are counted here rather than with csv-parse's `info` option, which doubles parse time.
  let line = 0;
  const records = pipeline(Readable.from(gunzipIfNeeded(input)), parser, () => {}) as AsyncIterable<{ record: string[] }>;

  let headerSeen = false;
  for await (const { record } of records) {
    line += 1;
    for (const field of record) if (field.includes('\n')) line += field.split('\n').length - 1;
    while (skipped.length) yield { ok: false, badRow: skipped.shift() as BadRow };
    if (!headerSeen) {
      headerSeen = true;
      if (record.join(',') !== CSV_HEADER.join(',')) {
        throw new Error(`${file}: not an invoice CSV: header is ${JSON.stringify(record.join(','))}, expected ${CSV_HEADER.join(',')}`);
      }
      continue;
    }
    yield parseSourceRow(record, file, line, mode);
  }
  while (skipped.length) yield { ok: false, badRow: skipped.shift() as BadRow };
}

/** The CSV files of a source: a file (plain or .gz) or a folder of them (by-day), in name order. */
export async function listSourceFiles(path: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const names = (await readdir(path)).filter((name) => /\.csv(\.gz)?$/i.test(name)).sort();
  if (names.length === 0) throw new Error(`${path}: no .csv or .csv.gz files in this folder`);
  return names.map((name) => join(path, name));
}

/** Streams the rows of every file of a source, in order. */
export async function* readSource(path: string, options: Omit<ReadRowsOptions, 'file'> = {}): AsyncGenerator<RowResult> {
  for (const file of await listSourceFiles(path)) {
    yield* readSourceRows(createReadStream(file, { highWaterMark: 1 << 20 }), { ...options, file: basename(file) });
  }
}
