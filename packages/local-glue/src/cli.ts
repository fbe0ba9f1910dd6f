#!/usr/bin/env tsx
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { listSourceFiles } from '@invoice-pipeline/transactions/files';
import { connectWarehouse } from '@invoice-pipeline/warehouse/postgres';
import { DumpRefused } from './crawler';
import { loadDumpFile, type DumpLoadReport } from './load';

const USAGE = `usage: pnpm load-dump FILE|FOLDER [--dir DIR] [--warehouse-url URL] [--store ID]

Loads CSV dumps (.csv or .csv.gz; a folder: its files in name order, one load each) into the local warehouse the
way the Glue job does in AWS: header check, the Spark SQL transform (on DuckDB), staging and the one merge.
The warehouse is the running local stack's (DIR/endpoints.json, default .local/) unless --warehouse-url is given.
Loading a file again changes nothing. Exits non-zero if a file was refused.`;

function progressBar(file: string, done: number, total: number): string {
  const width = 30;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `\r  ${file} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done.toLocaleString('en-GB')}/${total.toLocaleString('en-GB')} lines staged`;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { dir: { type: 'string' }, 'warehouse-url': { type: 'string' }, store: { type: 'string', default: 'online' }, help: { type: 'boolean', short: 'h' } },
  });
  const [source] = positionals;
  if (values.help || !source) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const url =
    values['warehouse-url'] ??
    (JSON.parse(await readFile(resolve(values.dir ?? resolve(__dirname, '../../../.local'), 'endpoints.json'), 'utf8')) as { warehouse: { url: string } }).warehouse.url;
  const warehouse = await connectWarehouse(url);
  const reports: DumpLoadReport[] = [];
  const refused: DumpRefused[] = [];
  const started = performance.now();
  try {
    for (const path of await listSourceFiles(resolve(process.env.INIT_CWD ?? process.cwd(), source))) {
      const file = basename(path);
      try {
        const report = await loadDumpFile({ path, sourceFile: `incoming/${file}`, storeId: values.store, warehouse, onProgress: (done, total) => process.stderr.write(progressBar(file, done, total)) });
        process.stderr.write('\n');
        reports.push(report);
        for (const bad of report.badRows.slice(0, 5)) console.log(`    bad row ${bad.file}:${bad.line} ${bad.field}: ${bad.reason}`);
        if (report.badRows.length > 5) console.log(`    … and ${report.badRows.length - 5} more bad rows`);
      } catch (error) {
        if (!(error instanceof DumpRefused)) throw error;
        refused.push(error);
        console.log(`  ${error.message}`);
      }
    }
  } finally {
    await warehouse.close();
  }
  const sum = (pick: (r: DumpLoadReport) => number) => reports.reduce((total, r) => total + pick(r), 0);
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `\nloaded ${reports.length} file(s), refused ${refused.length}: rows read ${sum((r) => r.rowsRead).toLocaleString('en-GB')}, ` +
      `loaded ${sum((r) => r.linesLoaded).toLocaleString('en-GB')}, rejected ${sum((r) => r.rowsRejected).toLocaleString('en-GB')} ` +
      `in ${seconds.toFixed(1)} s (${Math.round(sum((r) => r.rowsRead) / seconds).toLocaleString('en-GB')} rows/s)`,
  );
  return refused.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
