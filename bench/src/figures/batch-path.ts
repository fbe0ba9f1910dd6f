import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DuckDbTransform, loadDumpFile } from '@invoice-pipeline/local-glue';
import { readWarehouseTotals, startEmbeddedWarehouse } from '@invoice-pipeline/local-stack';
import { BUNDLED_DATASET, summariseSource } from '@invoice-pipeline/transactions/files';
import { WAREHOUSE_COLUMNS, WAREHOUSE_TABLES } from '@invoice-pipeline/warehouse';
import { grouped, perSecond, type Bench } from '../figure';

/** Smoke: the first rows of the dataset (the stream path's smoke slice). */
const SMOKE_ROWS = 20_000;
const CEILING_TABLE = 'bench_copy_ceiling';

/** The dump: the whole dataset as one file (the ~45 MB whole-year single-file layout), or its first rows. */
async function writeDump(dir: string, smoke: boolean): Promise<string> {
  const whole = gunzipSync(await readFile(BUNDLED_DATASET));
  let end = whole.length;
  if (smoke) for (let line = 0, at = 0; line <= SMOKE_ROWS; line += 1, at = end + 1) end = whole.indexOf(0x0a, at);
  const path = join(dir, smoke ? `online-retail-first-${SMOKE_ROWS}.csv` : 'online-retail.csv');
  await writeFile(path, whole.subarray(0, smoke ? end + 1 : end));
  return path;
}

/** The transform's lines as COPY CSV in invoice_lines' own columns (line_no is the line within the file here). */
async function warehouseRowsCsv(dump: string, dir: string): Promise<Buffer> {
  const transform = await DuckDbTransform.create();
  try {
    await transform.addFile(dump);
    await transform.transform({ storeId: 'online' });
    const select = WAREHOUSE_COLUMNS.map((c) => (c.name === 'line_no' ? 'line_in_file' : c.name === 'record_version' ? "''" : c.name));
    const csv = join(dir, 'ceiling.csv');
    await transform.connection.run(`COPY (SELECT ${select.join(', ')} FROM transformed WHERE reject_field IS NULL) TO '${csv}' (FORMAT csv, HEADER false, FORCE_QUOTE *)`);
    return await readFile(csv);
  } finally {
    transform.close();
  }
}

/**
 * The batch path's load of a dump: the whole dataset as one CSV file (a slice in smoke runs) loaded by the local
 * Glue job's load (`loadDumpFile`: header check, the Spark SQL transform on DuckDB, segments, a COPY of the lines of
 * invoices the warehouse has nothing of, the others staged and MERGEd) into an empty embedded warehouse, then loaded again (changes nothing). Ceiling: the warehouse engine's
 * own bulk load of the same lines, one COPY into a table shaped like invoice_lines (its key and indexes), same
 * warehouse, same run. The S3 upload, trigger and job run around the load are left out (batch-path.test.ts covers them).
 */
export const batchPath: Bench = {
  id: 'batch-path',
  needs: 'nothing',
  async run({ smoke, log }) {
    const dir = await mkdtemp(join(tmpdir(), 'bench-batch-'));
    const warehouse = await startEmbeddedWarehouse({});
    try {
      const dump = await writeDump(dir, smoke);
      const source = (await summariseSource(dump)).totals;
      log(`batch path: loading ${grouped(source.lines)} lines as one dump`);
      const sourceFile = 'incoming/online-retail.csv';
      let started = performance.now();
      const first = await loadDumpFile({ path: dump, sourceFile, warehouse });
      const loadMs = performance.now() - started;
      const loaded = await readWarehouseTotals(warehouse);
      const reconciled = loaded.lines === source.lines && loaded.invoices === source.invoices && loaded.revenue === source.revenue && first.rowsRejected === 0;
      log(`batch path: ${grouped(first.linesLoaded)} lines in ${(loadMs / 1000).toFixed(1)} s (transform ${(first.timings.transformMs / 1000).toFixed(1)} s, warehouse ${(first.timings.loadMs / 1000).toFixed(1)} s); ${reconciled ? 'reconciled' : 'NOT reconciled'}; loading it again`);
      started = performance.now();
      await loadDumpFile({ path: dump, sourceFile, warehouse });
      const reloadMs = performance.now() - started;
      const unchanged = JSON.stringify(await readWarehouseTotals(warehouse)) === JSON.stringify(loaded);

      log('batch path ceiling: COPY of the same lines into a table shaped like invoice_lines');
      const csv = await warehouseRowsCsv(dump, dir);
      await warehouse.query(`CREATE TABLE ${CEILING_TABLE} (LIKE ${WAREHOUSE_TABLES.lines} INCLUDING ALL)`);
      const copyCsv = warehouse.copyCsv;
      if (!copyCsv) throw new Error('the embedded warehouse has no CSV COPY');
      started = performance.now();
      await copyCsv(CEILING_TABLE, WAREHOUSE_COLUMNS.map((c) => c.name), csv);
      const ceilingMs = performance.now() - started;
      const [{ copied = 0 } = {}] = await warehouse.query<{ copied: number }>(`SELECT count(*)::int AS copied FROM ${CEILING_TABLE}`);

      const rate = perSecond(first.linesLoaded, loadMs);
      const ceilingRate = perSecond(Number(copied), ceilingMs);
      return [
        {
          id: 'batch-path.rows-per-second',
          label: `batch load of a dump (${smoke ? `${grouped(SMOKE_ROWS)} rows` : 'whole dataset, one 48 MB file'})`,
          value: rate,
          unit: 'rows/s',
          better: 'higher',
          detail: `${grouped(first.linesLoaded)} lines in ${(loadMs / 1000).toFixed(1)} s (transform ${(first.timings.transformMs / 1000).toFixed(1)} s, warehouse ${(first.timings.loadMs / 1000).toFixed(1)} s); ${reconciled ? 'reconciled with the source' : 'NOT reconciled'}`,
          ceiling: { label: 'COPY of the same lines', value: ceilingRate, detail: `${grouped(Number(copied))} lines in ${(ceilingMs / 1000).toFixed(1)} s` },
          target: { text: '>= 1/2 of COPY', met: rate >= ceilingRate / 2 },
        },
        {
          id: 'batch-path.reload-seconds',
          label: 'the same dump loaded again',
          value: reloadMs / 1000,
          unit: 's',
          better: 'lower',
          detail: unchanged ? 'no total changed' : 'TOTALS CHANGED',
        },
      ];
    } finally {
      await warehouse.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
