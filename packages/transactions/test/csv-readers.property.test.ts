import { Readable } from 'node:stream';
import fc from 'fast-check';
import { groupInvoices, type SourceItem } from '../src/files/group-invoices';
import { readSourceRows, type RowResult } from '../src/files/source-rows';
import { collect, HEADER } from './helpers';

/**
 * The CSV readers under any input: they never throw past the header, account for every data row (a row is read,
 * or reported as a bad row, never dropped), and give back exactly what a well-formed file holds.
 */

/** Cases per property: about 1,800 files per run. */
const RUNS = { wellFormed: 1_000, anyBytes: 800 };

const csvField = (value: string) => (/[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replaceAll('"', '""')}"` : value);

// Any text a description or stock code may hold: commas, quotes, £, line breaks, emoji.
const freeText = fc.string({ unit: fc.constantFrom('A', 'b', '1', ' ', ',', '"', '£', 'é', '\n', '😀', '-', '.'), minLength: 1, maxLength: 30 });
const row = fc.record({
  invoiceNo: fc.tuple(fc.constantFrom('', 'C', 'A'), fc.integer({ min: 1, max: 999_999 })).map(([prefix, number]) => `${prefix}${number}`),
  stockCode: freeText.filter((text) => text.trim() !== '' && !text.includes('\n')),
  description: fc.option(freeText, { nil: null }),
  quantity: fc.integer({ min: -100_000, max: 100_000 }),
  invoiceDate: fc.date({ min: new Date('2010-12-01T00:00:00Z'), max: new Date('2011-12-09T23:59:00Z'), noInvalidDate: true }).map((date) => date.toISOString().slice(0, 16).replace('T', ' ') + ':00'),
  unitPrice: fc.bigInt({ min: 0n, max: 10_000_000n }).map((millis) => `${millis / 1000n}.${String(millis % 1000n).padStart(3, '0')}`),
  customerId: fc.option(fc.integer({ min: 12_000, max: 18_999 }).map((id) => `${id}.0`), { nil: null }),
  country: fc.constantFrom('United Kingdom', 'EIRE', 'Côte d’Ivoire', 'RSA'),
});
type Row = typeof row extends fc.Arbitrary<infer T> ? T : never;

function toCsv(rows: Row[], eol: string): string {
  const lines = rows.map((r) =>
    [r.invoiceNo, r.stockCode, r.description ?? '', String(r.quantity), r.invoiceDate, r.unitPrice, r.customerId ?? '', r.country].map(csvField).join(','),
  );
  return [HEADER, ...lines].join(eol) + eol;
}

/** Feeds bytes in random chunk sizes, as a stream from a file or S3 would. */
function chunked(bytes: Buffer, sizes: number[]): Readable {
  const chunks: Buffer[] = [];
  let offset = 0;
  for (let index = 0; offset < bytes.length; index += 1) {
    const size = Math.max(1, sizes[index % sizes.length] ?? 64);
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return Readable.from(chunks);
}

async function read(bytes: Buffer, sizes: number[]): Promise<{ rows: RowResult[]; items: SourceItem[] }> {
  const rows = await collect(readSourceRows(chunked(bytes, sizes), { file: 'fuzz.csv' }));
  const items = await collect(groupInvoices((async function* () { yield* rows; })()));
  return { rows, items };
}

const linesIn = (items: SourceItem[]) => items.reduce((sum, item) => sum + (item.kind === 'invoice' ? item.invoice.lines.length : 1), 0);

describe('CSV readers, any file', () => {
  it('a well-formed file (UTF-8 or CRLF, quoted commas, quotes, line breaks, £) reads back exactly, every row once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 25 }), fc.constantFrom('\n', '\r\n'), fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 5 }), async (rows, eol, sizes) => {
        const { rows: results, items } = await read(Buffer.from(toCsv(rows, eol), 'utf8'), sizes);
        expect(results).toHaveLength(rows.length);
        results.forEach((result, index) => {
          const sent = rows[index] as Row;
          if (!result.ok) throw new Error(`row ${index + 1} refused: ${result.badRow.reason}`);
          expect(result.row).toMatchObject({
            invoiceNo: sent.invoiceNo,
            stockCode: sent.stockCode,
            description: sent.description,
            quantity: sent.quantity,
            invoiceDate: sent.invoiceDate.replace(' ', 'T'),
            customerId: sent.customerId?.replace('.0', '') ?? null,
            country: sent.country,
          });
        });
        // Grouping keeps every row: as a line of an invoice or as a bad row with its reason.
        expect(linesIn(items)).toBe(rows.length);
      }),
      { numRuns: RUNS.wellFormed },
    );
  }, 120_000);

  it('any bytes after the header: no throw, and every item is a read row or a bad row with a reason', async () => {
    const noise = fc.oneof(
      fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes)),
      fc.string({ unit: fc.constantFrom('5', '3', '6', ',', '"', '\n', '\r', 'C', 'A', '.', '-', ' ', '/', ':', '£', 'x'), maxLength: 400 }).map((text) => Buffer.from(text, 'latin1')),
    );
    await fc.assert(
      fc.asyncProperty(noise, fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 5 }), async (bytes, sizes) => {
        const { rows, items } = await read(Buffer.concat([Buffer.from(`${HEADER}\n`), bytes]), sizes);
        for (const result of rows) if (!result.ok) expect(result.badRow.reason.length).toBeGreaterThan(0);
        // Nothing read is lost between rows and invoices.
        expect(linesIn(items)).toBe(rows.length);
      }),
      { numRuns: RUNS.anyBytes },
    );
  }, 120_000);
});
