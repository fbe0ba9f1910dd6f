import { Readable } from 'node:stream';
import { readSourceRows, type RowResult } from '../src/files/source-rows';

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Reads CSV text (written as bytes in the given encoding) through the real reader. */
export function rowsOf(text: string | Buffer, encoding: BufferEncoding = 'utf8'): Promise<RowResult[]> {
  const bytes = typeof text === 'string' ? Buffer.from(text, encoding) : text;
  return collect(readSourceRows(Readable.from([bytes]), { file: 'test.csv' }));
}

export const HEADER = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';
