#!/usr/bin/env tsx
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BUNDLED_DATASET } from './files/dataset';
import type { TextEncodingMode } from './files/source-rows';
import { summariseSource } from './files/summarise';

const USAGE = `usage: transactions summary [SOURCE] [--json] [--encoding auto|utf8|latin1]

SOURCE is a CSV file, a .csv.gz, or a folder of them (read in name order);
default: the bundled Online Retail dataset.`;

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, encoding: { type: 'string', default: 'auto' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command = 'summary', given] = positionals;
  // `pnpm --filter … cli` runs in the package folder; a path is meant from where the user typed it (INIT_CWD).
  const source = given === undefined ? BUNDLED_DATASET : resolve(process.env.INIT_CWD ?? process.cwd(), given);
  if (values.help || command !== 'summary') {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (!['auto', 'utf8', 'latin1'].includes(values.encoding)) {
    console.error(`--encoding must be auto, utf8 or latin1, not ${values.encoding}`);
    return 2;
  }
  const started = performance.now();
  const summary = await summariseSource(source, { encoding: values.encoding as TextEncodingMode });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (values.json) {
    console.log(JSON.stringify({ ...summary, seconds: Number(seconds) }, null, 2));
  } else {
    const { totals } = summary;
    console.log(`source      ${summary.source}`);
    console.log(`rows        ${summary.rows.toLocaleString('en-GB')} (${summary.badRows.toLocaleString('en-GB')} bad)`);
    console.log(`invoices    ${totals.invoices.toLocaleString('en-GB')}`);
    console.log(`lines       ${totals.lines.toLocaleString('en-GB')}`);
    console.log(`revenue     ${totals.revenue}`);
    for (const [type, entry] of Object.entries(totals.byType)) console.log(`  ${type.padEnd(13)} ${String(entry.lines).padStart(7)} lines  ${entry.revenue}`);
    for (const bad of summary.badRowSamples) console.log(`bad row     ${bad.file}:${bad.line} ${bad.field}: ${bad.reason}`);
    console.log(`read in ${seconds} s`);
  }
  return summary.badRows === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
