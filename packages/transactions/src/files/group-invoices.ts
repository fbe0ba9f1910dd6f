import { Invoice as InvoiceSchema, type Invoice, type InvoiceLine } from '../schemas';
import type { BadRow, RowResult, SourceRow } from './source-rows';
import { problemsOf } from '../validation';

/** What reading a source yields: whole invoices (with the source rows they came from) and bad rows. */
export type SourceItem = { kind: 'invoice'; invoice: Invoice; rows: SourceRow[] } | { kind: 'bad-row'; badRow: BadRow };

export interface GroupOptions {
  /** The store an invoice is attributed to. The dataset has one online store; the POS simulator spreads invoices over many. */
  storeIdFor?: (invoiceNo: string) => string;
  /**
   * An invoice is complete once this many rows have passed without another of its lines. Rows of one invoice are
   * nearly always adjacent (one invoice in the whole dataset has a gap of 6 rows); a line arriving after its
   * invoice was emitted becomes a bad row with that reason, never a second invoice with the same number.
   */
  window?: number;
}

interface OpenInvoice {
  rows: SourceRow[];
  lastSeen: number;
}

function toInvoice(rows: SourceRow[], storeId: string): Invoice {
  const first = rows[0] as SourceRow;
  const lines: InvoiceLine[] = rows.map((row) => ({
    stockCode: row.stockCode,
    description: row.description,
    quantity: row.quantity,
    unitPrice: row.unitPrice,
    ...(row.invoiceDate !== first.invoiceDate ? { invoiceDate: row.invoiceDate } : {}),
  }));
  return { invoiceNo: first.invoiceNo, invoiceDate: first.invoiceDate, customerId: first.customerId, country: first.country, storeId, lines };
}

function rowAsBad(row: SourceRow, field: string, reason: string): BadRow {
  const raw = [row.invoiceNo, row.stockCode, row.description ?? '', row.quantity, row.invoiceDate, row.unitPrice, row.customerId ?? '', row.country].join(',');
  return { file: row.file, line: row.line, field, reason, raw };
}

/**
 * Groups source rows into invoices, lines in order of appearance (so lineNo is the position in the source).
 * Invoices come out in order of their first row. Memory holds only the invoices still open.
 */
export async function* groupInvoices(rows: AsyncIterable<RowResult>, options: GroupOptions = {}): AsyncGenerator<SourceItem> {
  const storeIdFor = options.storeIdFor ?? (() => 'online');
  const window = options.window ?? 1_000;
  const open = new Map<string, OpenInvoice>();
  const emitted = new Set<string>();
  let position = 0;

  function* emit(invoiceNo: string, entry: OpenInvoice): Generator<SourceItem> {
    open.delete(invoiceNo);
    emitted.add(invoiceNo);
    const invoice = toInvoice(entry.rows, storeIdFor(invoiceNo));
    const checked = InvoiceSchema.safeParse(invoice);
    if (checked.success) {
      yield { kind: 'invoice', invoice: checked.data, rows: entry.rows };
      return;
    }
    // A row set the CSV allows but an invoice does not (e.g. over the line limit): every row is reported.
    const reason = problemsOf(checked.error).map((problem) => `${problem.path}: ${problem.message}`).join('; ');
    for (const row of entry.rows) yield { kind: 'bad-row', badRow: rowAsBad(row, '(invoice)', reason) };
  }

  for await (const result of rows) {
    position += 1;
    if (!result.ok) {
      yield { kind: 'bad-row', badRow: result.badRow };
    } else {
      const { row } = result;
      const entry = open.get(row.invoiceNo);
      if (entry) {
        const first = entry.rows[0] as SourceRow;
        if (row.customerId !== first.customerId || row.country !== first.country) {
          yield { kind: 'bad-row', badRow: rowAsBad(row, 'CustomerID', `customer/country differ from line 1 of invoice ${row.invoiceNo} (line ${first.line})`) };
        } else {
          entry.rows.push(row);
          entry.lastSeen = position;
        }
      } else if (emitted.has(row.invoiceNo)) {
        yield {
          kind: 'bad-row',
          badRow: rowAsBad(row, 'InvoiceNo', `invoice ${row.invoiceNo} reappeared more than ${window} rows after its last line; raise the grouping window`),
        };
      } else {
        open.set(row.invoiceNo, { rows: [row], lastSeen: position });
      }
    }
    // Emit complete invoices, oldest first, keeping first-appearance order.
    for (const [invoiceNo, entry] of open) {
      if (position - entry.lastSeen < window) break;
      yield* emit(invoiceNo, entry);
    }
  }
  for (const [invoiceNo, entry] of open) yield* emit(invoiceNo, entry);
}
