import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse';
import { BUNDLED_DATASET, readSourceRows } from '@invoice-pipeline/transactions/files';
import { grouped, perSecond, type Bench } from '../figure';

/** Smoke: the first rows only, enough to exercise both readers. */
const SMOKE_BYTES = 2 * 1024 * 1024;

async function timed(work: () => Promise<number>): Promise<{ rows: number; ms: number }> {
  const started = performance.now();
  const rows = await work();
  return { rows, ms: performance.now() - started };
}

/**
 * The dataset's CSV reader (encoding per field, date styles, bad rows, invoice rows) on the whole file, beside a
 * plain csv-parse of the same bytes into string arrays: the cost of turning CSV text into checked invoice lines.
 * Both read the decompressed bytes from memory in 1 MiB chunks, so neither pays for the disk or for gunzip.
 */
export const csvReader: Bench = {
  id: 'csv-reader',
  needs: 'nothing',
  async run({ smoke, log }) {
    const whole = gunzipSync(await readFile(BUNDLED_DATASET));
    const bytes = smoke ? whole.subarray(0, whole.lastIndexOf('\n', SMOKE_BYTES) + 1) : whole;
    const chunks = () => Readable.from((function* () {
      for (let at = 0; at < bytes.length; at += 1 << 20) yield bytes.subarray(at, at + (1 << 20));
    })());

    log(`csv reader: ${grouped(bytes.length)} bytes`);
    const plain = await timed(async () => {
      let rows = -1; // the header
      for await (const _record of chunks().pipe(parse({ encoding: 'latin1', bom: true, relax_column_count: true }))) rows += 1;
      return rows;
    });
    const reader = await timed(async () => {
      let rows = 0;
      for await (const row of readSourceRows(chunks(), { file: 'online-retail.csv' })) if (row.ok) rows += 1;
      return rows;
    });
    return [
      {
        id: 'csv-reader.rows-per-second',
        label: 'CSV reader, whole file',
        value: perSecond(reader.rows, reader.ms),
        unit: 'rows/s',
        better: 'higher',
        detail: `${grouped(reader.rows)} rows in ${(reader.ms / 1000).toFixed(1)} s`,
        ceiling: { label: 'plain csv-parse', value: perSecond(plain.rows, plain.ms), detail: `${grouped(plain.rows)} rows in ${(plain.ms / 1000).toFixed(1)} s` },
        target: { text: '>= 1/2 of plain parse', met: perSecond(reader.rows, reader.ms) >= perSecond(plain.rows, plain.ms) / 2 },
      },
    ];
  },
};
