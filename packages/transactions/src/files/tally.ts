import { formatMillis, lineTotalMillis, parseMillis } from '../money';
import { invoiceTypeOf, type Invoice, type InvoiceType, type NormalisedLine } from '../schemas';

/** Counts and exact revenue of a set of lines: what every sink is reconciled on. */
export interface Totals {
  invoices: number;
  lines: number;
  revenue: string;
  byType: Record<InvoiceType, { lines: number; revenue: string }>;
}

/** Accumulates lines (each counted once per call: the caller brings unique lines) into Totals. */
export class Tally {
  private readonly invoiceNos = new Set<string>();
  private lines = 0;
  private revenue = 0n;
  private readonly byType: Record<InvoiceType, { lines: number; revenue: bigint }> = {
    sale: { lines: 0, revenue: 0n },
    cancellation: { lines: 0, revenue: 0n },
    adjustment: { lines: 0, revenue: 0n },
  };

  add(line: Pick<NormalisedLine, 'invoiceNo' | 'invoiceType' | 'lineTotal'>): void {
    const total = parseMillis(line.lineTotal);
    if (total === undefined) throw new RangeError(`line ${line.invoiceNo}: lineTotal is not exact: ${line.lineTotal}`);
    this.addLines(line.invoiceNo, line.invoiceType, 1, total);
  }

  /** Adds `lines` lines of one invoice whose line totals sum to `millis` thousandths (the same as adding each line). */
  addLines(invoiceNo: string, invoiceType: InvoiceType, lines: number, millis: bigint): void {
    this.invoiceNos.add(invoiceNo);
    this.lines += lines;
    this.revenue += millis;
    this.byType[invoiceType].lines += lines;
    this.byType[invoiceType].revenue += millis;
  }

  /**
   * Adds the lines of a valid invoice: the same as addAll(normaliseInvoice(invoice)), without building each line (a
   * line's total is its exact thousandths, lineTotalMillis, which normaliseInvoice formats and add would parse back).
   */
  addInvoice(invoice: Pick<Invoice, 'invoiceNo' | 'lines'>): this {
    this.addLines(invoice.invoiceNo, invoiceTypeOf(invoice.invoiceNo), invoice.lines.length, lineTotalsOf(invoice).reduce((sum, total) => sum + total, 0n));
    return this;
  }

  addAll(lines: Iterable<Pick<NormalisedLine, 'invoiceNo' | 'invoiceType' | 'lineTotal'>>): this {
    for (const line of lines) this.add(line);
    return this;
  }

  totals(): Totals {
    const entry = (type: InvoiceType) => ({ lines: this.byType[type].lines, revenue: formatMillis(this.byType[type].revenue) });
    return {
      invoices: this.invoiceNos.size,
      lines: this.lines,
      revenue: formatMillis(this.revenue),
      byType: { sale: entry('sale'), cancellation: entry('cancellation'), adjustment: entry('adjustment') },
    };
  }
}

/** An invoice's lines' exact totals (thousandths), in line order. */
export const lineTotalsOf = (invoice: Pick<Invoice, 'lines'>): bigint[] => invoice.lines.map((line) => lineTotalMillis(line.quantity, line.unitPrice));

/**
 * Totals of whole invoices as the keyed sinks hold them: each (invoiceNo, lineNo) once, the first time it is seen;
 * `repeated` counts the others. The same as tallying normaliseInvoice's lines keyed by (invoiceNo, lineNo), without
 * building each line: a line's number is its 1-based position (normaliseInvoice), so the keys seen of an invoice are
 * always 1..(the most lines it came with), one count per invoice; and a line's total is summed as the exact
 * thousandths normaliseInvoice formats (lineTotalMillis) and Tally would parse back (as Tally.addInvoice does).
 */
export class InvoiceTally {
  private readonly tally = new Tally();
  private readonly linesSeen = new Map<string, number>();
  repeated = 0;

  add(invoice: Pick<Invoice, 'invoiceNo' | 'lines'>): void {
    this.addLineTotals(invoice.invoiceNo, lineTotalsOf(invoice));
  }

  /** An invoice given by its lines' exact totals (thousandths), in line order. */
  addLineTotals(invoiceNo: string, lineTotals: readonly bigint[]): void {
    const seen = this.linesSeen.get(invoiceNo) ?? 0;
    const count = lineTotals.length;
    this.repeated += Math.min(seen, count);
    if (count <= seen) return;
    let millis = 0n;
    for (let index = seen; index < count; index += 1) millis += lineTotals[index] as bigint;
    this.tally.addLines(invoiceNo, invoiceTypeOf(invoiceNo), count - seen, millis);
    this.linesSeen.set(invoiceNo, count);
  }

  totals(): Totals {
    return this.tally.totals();
  }
}
