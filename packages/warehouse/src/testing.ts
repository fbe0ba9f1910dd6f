import { resolve } from 'node:path';
import { normaliseInvoice, recordVersion } from '@invoice-pipeline/transactions';
import { toWarehouseRow, type WarehouseRow } from './contract';
import { groupInvoices, readSource } from '@invoice-pipeline/transactions/files';

/** A small real slice of the bundled dataset for analytics tests (how it is made: test/fixtures/make-slice.ts). */
export const ANALYTICS_SLICE = resolve(__dirname, '../test/fixtures/online-retail-slice.csv.gz');

/** The slice as warehouse rows, read and normalised by the project's own reader (every row must be good). */
export async function readSliceRows(path = ANALYTICS_SLICE): Promise<WarehouseRow[]> {
  const rows: WarehouseRow[] = [];
  for await (const item of groupInvoices(readSource(path))) {
    if (item.kind === 'bad-row') throw new Error(`bad row in the analytics slice: ${JSON.stringify(item.badRow)}`);
    rows.push(...normaliseInvoice(item.invoice).map((line) => toWarehouseRow(line, recordVersion('1'))));
  }
  return rows;
}
