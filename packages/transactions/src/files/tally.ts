import { formatMillis, parseMillis } from '../money';
import type { InvoiceType, NormalisedLine } from '../schemas';

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
