import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { listSourceFiles } from '@invoice-pipeline/transactions/files';

async function isGzip(file: string): Promise<boolean> {
  for await (const chunk of createReadStream(file, { start: 0, end: 1 })) return (chunk as Buffer)[0] === 0x1f && (chunk as Buffer)[1] === 0x8b;
  return false;
}

/**
 * About how many data rows a source holds (line breaks less one header per file), for a progress bar's total.
 * Quoted fields with line breaks make it an overestimate; it is never used for accounting.
 */
export async function estimateRows(source: string): Promise<number> {
  let rows = 0;
  for (const file of await listSourceFiles(source)) {
    const input: Readable = (await isGzip(file)) ? createReadStream(file).pipe(createGunzip()) : createReadStream(file);
    let breaks = 0;
    for await (const chunk of input) {
      const buffer = chunk as Buffer;
      for (let at = buffer.indexOf(10); at !== -1; at = buffer.indexOf(10, at + 1)) breaks += 1;
    }
    rows += Math.max(0, breaks - 1);
  }
  return rows;
}
