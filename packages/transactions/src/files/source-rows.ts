import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Parser, type Options } from 'csv-parse';
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

/**
 * Values of a column repeat across rows (an invoice's rows share a timestamp; a few thousand distinct prices and
 * customers in the whole set), so their parse is memoised, in a cache cleared when it outgrows `limit`.
 */
function memoised<T>(parse: (text: string) => T, limit: number): (text: string) => T {
  const cache = new Map<string, T>();
  return (text) => {
    const cached = cache.get(text);
    if (cached !== undefined || cache.has(text)) return cached as T;
    if (cache.size > limit) cache.clear();
    const value = parse(text);
    cache.set(text, value);
    return value;
  };
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

/** Parses every date style of the dataset into `YYYY-MM-DDTHH:mm:ss`; two-digit years are 20yy. */
export const parseSourceDate: (text: string) => string | undefined = memoised(parseDateStyles, 10_000);

const canonicalPrice = memoised(canonicalDecimal, 50_000);

const CUSTOMER_PATTERN = /^(\d{1,20})(?:\.0+)?$/;
const canonicalCustomer = memoised((text) => CUSTOMER_PATTERN.exec(text)?.[1], 50_000);
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

/** A row that could not be read: the raw fields joined back, since a row that parsed has no other text. */
function badRow(fields: string[], file: string, line: number, field: string, reason: string): RowResult {
  return { ok: false, badRow: { file, line, field, reason, raw: fields.join(',') } };
}

/** Turns the raw fields of one data row into a SourceRow, or says which field is wrong and why. */
export function parseSourceRow(fields: string[], file: string, line: number, mode: TextEncodingMode = 'auto'): RowResult {
  if (fields.length !== CSV_HEADER.length) return badRow(fields, file, line, '(row)', `expected ${CSV_HEADER.length} fields, found ${fields.length}`);
  const invoiceNo = decodeField(fields[0] as string, mode);
  const stockCode = decodeField(fields[1] as string, mode);
  const description = decodeField(fields[2] as string, mode);
  const quantity = decodeField(fields[3] as string, mode);
  const invoiceDate = decodeField(fields[4] as string, mode);
  const unitPrice = decodeField(fields[5] as string, mode);
  const customerId = decodeField(fields[6] as string, mode);
  const country = decodeField(fields[7] as string, mode);

  if (!INVOICE_NO_PATTERN.test(invoiceNo)) return badRow(fields, file, line, 'InvoiceNo', `not an invoice number: ${JSON.stringify(invoiceNo)}`);
  if (stockCode === '') return badRow(fields, file, line, 'StockCode', 'empty');
  if (!QUANTITY_PATTERN.test(quantity)) return badRow(fields, file, line, 'Quantity', `not a whole number: ${JSON.stringify(quantity)}`);
  const date = parseSourceDate(invoiceDate);
  if (date === undefined) return badRow(fields, file, line, 'InvoiceDate', `not a date in a known style: ${JSON.stringify(invoiceDate)}`);
  const price = canonicalPrice(unitPrice);
  if (price === undefined) return badRow(fields, file, line, 'UnitPrice', `not an exact decimal with at most 3 decimals: ${JSON.stringify(unitPrice)}`);
  const customer = customerId === '' ? null : canonicalCustomer(customerId);
  if (customer === undefined) return badRow(fields, file, line, 'CustomerID', `not a customer id: ${JSON.stringify(customerId)}`);
  if (country === '') return badRow(fields, file, line, 'Country', 'empty');

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
 * csv-parse parses each chunk it is given in one go, and the records of a chunk wait for the reader meanwhile: it
 * is given 64 KiB at a time (not the 1 MiB a file stream reads), so fewer records are alive when the young
 * generation is collected.
 */
const PARSE_SLICE = 1 << 16;

async function* inSlices(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) for (let at = 0; at < chunk.length; at += PARSE_SLICE) yield chunk.subarray(at, at + PARSE_SLICE);
}

type Callback = (error?: Error | null) => void;

/**
 * csv-parse's stream parser, pushing the records of each input chunk as one array (one hop per chunk for the
 * reader, not one per record), and keeping the input bytes from the start of the record being parsed, so a record
 * it skips can be reported with its text exactly as written, without its `raw` option (which copies every byte
 * of the file once more).
 */
class SourceParser extends Parser {
  private records: string[][] = [];
  /** Offset in the input of the record being parsed: where the last record pushed ended (after its line break). */
  private recordStart = 0;
  /** Input chunks from the one holding `recordStart` on, and the offset of the first. */
  private kept: Buffer[] = [];
  private keptStart = 0;

  constructor(options: Options) {
    // csv-parse hands its options on to its stream: one batch of records waits for the reader at most.
    super({ ...options, readableHighWaterMark: 1 } as Options);
  }

  override _transform(chunk: Buffer, encoding: BufferEncoding, callback: Callback): void {
    while (this.kept.length && this.keptStart + (this.kept[0] as Buffer).length <= this.recordStart) {
      this.keptStart += (this.kept.shift() as Buffer).length;
    }
    this.kept.push(chunk);
    super._transform(chunk, encoding, this.pushingRecords(callback));
  }

  override _flush(callback: Callback): void {
    super._flush(this.pushingRecords(callback));
  }

  /** csv-parse pushes each record right after counting its bytes, so `info.bytes` is where the next one starts. */
  override push(record: unknown, encoding?: BufferEncoding): boolean {
    if (record === null) {
      this.pushRecords();
      return super.push(null, encoding);
    }
    this.recordStart = this.info.bytes;
    this.records.push(record as string[]);
    return true;
  }

  /**
   * The text of the record being parsed, as written: from the end of the last record to the end of the input
   * given so far. The one error csv-parse can skip a record for with this reader's options (relaxed quotes and
   * column counts) is a quote still open at the end of the input, where that is exactly the record.
   */
  recordText(): string {
    const text = Buffer.concat(this.kept).subarray(this.recordStart - this.keptStart).toString(this.options.encoding ?? 'latin1');
    // A byte order mark is not part of the first record (csv-parse reads the text after it in the encoding it names).
    return this.recordStart === 0 ? text.replace(/^\uFEFF/, '') : text;
  }

  private pushingRecords(callback: Callback): Callback {
    return (error) => {
      this.pushRecords();
      callback(error);
    };
  }

  private pushRecords(): void {
    if (this.records.length === 0) return;
    const records = this.records;
    this.records = [];
    super.push(records);
  }
}

/**
 * Streams the rows of one CSV source (plain or gzip). Every data row yields either a SourceRow or a BadRow;
 * a malformed row (broken quoting, wrong field count) becomes a BadRow and reading goes on.
 */
export async function* readSourceRows(input: AsyncIterable<Buffer>, options: ReadRowsOptions = {}): AsyncGenerator<RowResult> {
  const file = options.file ?? 'input';
  const mode = options.encoding ?? 'auto';
  /** Records csv-parse skipped, each with how many records it had pushed before it, to report them in order. */
  const skipped: Array<{ after: number; errorLine: number | undefined; reason: string; raw: string }> = [];
  const parser: SourceParser = new SourceParser({
    encoding: 'latin1',
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    relax_quotes: true,
    on_skip: (error) => {
      // csv-parse reports the line it stopped on; the next record starts after it.
      const errorLine = (error as { lines?: number } | undefined)?.lines;
      skipped.push({ after: parser.info.records, errorLine, reason: error?.message ?? 'unreadable CSV', raw: parser.recordText() });
    },
  });
  // Line numbers are counted here rather than with csv-parse's `info` option, which doubles parse time.
  let line = 0;
  let records = 0;
  const takeSkipped = function* (upTo: number): Generator<RowResult> {
    while (skipped.length && (skipped[0] as { after: number }).after <= upTo) {
      const { errorLine, reason, raw } = skipped.shift() as (typeof skipped)[number];
      line = errorLine ?? line;
      yield { ok: false, badRow: { file, line, field: '(row)', reason, raw } };
    }
  };

  for await (const batch of pipeline(Readable.from(inSlices(gunzipIfNeeded(input))), parser, () => {}) as AsyncIterable<string[][]>) {
    for (const record of batch) {
      if (skipped.length) yield* takeSkipped(records);
      records += 1;
      line += 1;
      for (const field of record) if (field.includes('\n')) line += field.split('\n').length - 1;
      if (records === 1) {
        if (record.join(',') !== CSV_HEADER.join(',')) {
          throw new Error(`${file}: not an invoice CSV: header is ${JSON.stringify(record.join(','))}, expected ${CSV_HEADER.join(',')}`);
        }
        continue;
      }
      yield parseSourceRow(record, file, line, mode);
    }
  }
  yield* takeSkipped(Infinity);
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
