import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normaliseInvoice, parseMillis, type NormalisedLine } from '@invoice-pipeline/transactions';
import { groupInvoices, readSource, type BadRow } from '@invoice-pipeline/transactions/files';
import { DuckDbTransform, type TransformedLine } from '../src/transform';

export const HEADER = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';

/** A temporary folder for dump files, removed by the returned cleanup. */
export async function tempDir(): Promise<{ dir: string; write: (name: string, content: string | Buffer) => Promise<string>; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'local-glue-'));
  return {
    dir,
    write: async (name, content) => {
      const path = join(dir, name);
      await writeFile(path, content);
      return path;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Runs the Spark SQL transform on DuckDB over the given files (in order). */
export async function transformFiles(paths: string[], storeId = 'online') {
  const transform = await DuckDbTransform.create();
  try {
    for (const path of paths) await transform.addFile(path);
    await transform.transform({ storeId });
    return { lines: await transform.lines(), badRows: await transform.badRows(), summaries: await transform.summaries() };
  } finally {
    transform.close();
  }
}

/** What packages/transactions makes of the same source: normalised lines and bad rows. */
export async function referenceOf(path: string): Promise<{ lines: NormalisedLine[]; badRows: BadRow[] }> {
  const lines: NormalisedLine[] = [];
  const badRows: BadRow[] = [];
  for await (const item of groupInvoices(readSource(path))) {
    if (item.kind === 'invoice') lines.push(...normaliseInvoice(item.invoice));
    else badRows.push(item.badRow);
  }
  return { lines, badRows };
}

/** A transformed line in the reference's terms (money compared as exact thousandths, not as text). */
export function comparable(line: TransformedLine, lineNo = line.line_in_file) {
  return {
    invoiceNo: line.invoice_no,
    lineNo,
    invoiceType: line.invoice_type,
    invoiceDate: line.invoice_date,
    customerId: line.customer_id,
    country: line.country,
    storeId: line.store_id,
    stockCode: line.stock_code,
    description: line.description,
    quantity: line.quantity,
    unitPrice: parseMillis(line.unit_price),
    lineTotal: parseMillis(line.line_total),
  };
}

export function comparableReference(line: NormalisedLine) {
  return { ...line, unitPrice: parseMillis(line.unitPrice), lineTotal: parseMillis(line.lineTotal) };
}

/** Lines in key order: the reader emits them invoice by invoice, the transform in file order. */
export function sorted<T extends { invoiceNo: string; lineNo: number }>(lines: T[]): T[] {
  return [...lines].sort((a, b) => (a.invoiceNo === b.invoiceNo ? a.lineNo - b.lineNo : a.invoiceNo < b.invoiceNo ? -1 : 1));
}
