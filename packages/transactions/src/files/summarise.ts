import { groupInvoices, type GroupOptions } from './group-invoices';
import { normaliseInvoice } from '../schemas';
import { readSource, type BadRow, type TextEncodingMode } from './source-rows';
import { Tally, type Totals } from './tally';

export interface SourceSummary {
  source: string;
  rows: number;
  badRows: number;
  /** The first bad rows, for a report; all of them are counted in badRows. */
  badRowSamples: BadRow[];
  totals: Totals;
}

/** Reads a whole source and totals it: the reference every sink is reconciled against. */
export async function summariseSource(
  path: string,
  options: GroupOptions & { encoding?: TextEncodingMode; maxBadRowSamples?: number } = {},
): Promise<SourceSummary> {
  const tally = new Tally();
  const badRowSamples: BadRow[] = [];
  let rows = 0;
  let badRows = 0;
  for await (const item of groupInvoices(readSource(path, { encoding: options.encoding ?? 'auto' }), options)) {
    if (item.kind === 'bad-row') {
      rows += 1;
      badRows += 1;
      if (badRowSamples.length < (options.maxBadRowSamples ?? 20)) badRowSamples.push(item.badRow);
    } else {
      rows += item.rows.length;
      tally.addAll(normaliseInvoice(item.invoice));
    }
  }
  return { source: path, rows, badRows, badRowSamples, totals: tally.totals() };
}
