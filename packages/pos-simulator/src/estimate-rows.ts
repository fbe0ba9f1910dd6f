import { createReadStream } from 'node:fs';
import { gunzipIfNeeded, listSourceFiles } from '@invoice-pipeline/transactions/files';

/**
 * About how many data rows a source holds (line breaks less one header per file), for a progress bar's total.
 * Quoted fields with line breaks make it an overestimate; it is never used for accounting.
 */
export async function estimateRows(source: string): Promise<number> {
  let rows = 0;
  for (const file of await listSourceFiles(source)) {
    let breaks = 0;
    for await (const buffer of gunzipIfNeeded(createReadStream(file))) {
      for (let at = buffer.indexOf(10); at !== -1; at = buffer.indexOf(10, at + 1)) breaks += 1;
    }
    rows += Math.max(0, breaks - 1);
  }
  return rows;
}
