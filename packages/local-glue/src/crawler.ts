import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { CSV_HEADER } from '@invoice-pipeline/transactions/files';
import { isGzipFile } from './transform';

/** What the crawler expects of a dump: the CSV classifier's settings (batch-loader's AWS::Glue::Classifier). */
export interface CsvClassifier {
  header: readonly string[];
  delimiter: string;
  quoteSymbol: string;
}

export const DEFAULT_CLASSIFIER: CsvClassifier = { header: CSV_HEADER, delimiter: ',', quoteSymbol: '"' };

/** A dump the crawler refused, with the reason (it never reaches the transform). */
export class DumpRefused extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: refused: ${reason}`);
    this.name = 'DumpRefused';
  }
}

/** First line of a dump (gzip undone, BOM and CR dropped), as latin-1 so no byte is lost. */
async function firstLine(path: string, gzip: boolean): Promise<string | undefined> {
  const input = gzip ? createReadStream(path).pipe(createGunzip()) : createReadStream(path);
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of lines) return line.replace(/^\uFEFF|^\xEF\xBB\xBF/, '').replace(/\r$/, '');
    return undefined;
  } finally {
    lines.close();
    input.destroy();
  }
}

/**
 * The crawler step: the header must name the classifier's columns, in order. A drifted file (a renamed, missing,
 * extra or reordered column, or no header at all) is refused with what differs.
 */
export async function checkDumpHeader(path: string, file: string, classifier: CsvClassifier = DEFAULT_CLASSIFIER): Promise<void> {
  const line = await firstLine(path, await isGzipFile(path));
  if (line === undefined || line.trim() === '') throw new DumpRefused(file, 'empty file: no header');
  const found = line.split(classifier.delimiter).map((name) => name.trim().replace(new RegExp(`^${classifier.quoteSymbol}|${classifier.quoteSymbol}$`, 'g'), ''));
  const expected = classifier.header;
  if (found.length === expected.length && found.every((name, index) => name === expected[index])) return;
  const missing = expected.filter((name) => !found.includes(name));
  const extra = found.filter((name) => !expected.includes(name));
  const details = [
    missing.length ? `missing ${missing.join(', ')}` : '',
    extra.length ? `unexpected ${extra.map((n) => JSON.stringify(n)).join(', ')}` : '',
    !missing.length && !extra.length ? 'columns out of order' : '',
  ].filter(Boolean);
  throw new DumpRefused(file, `header ${JSON.stringify(line.slice(0, 200))} does not match the expected columns ${expected.join(',')} (${details.join('; ')})`);
}
