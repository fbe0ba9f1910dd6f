/**
 * `pnpm bench`: measures every speed figure of the pipeline beside its ceiling in one run, writes
 * bench/results.json (bench/results-smoke.json with --smoke) and prints a table. See bench/README.md.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FREE_PORTS, startLocalPipeline, type LocalPipeline } from '@invoice-pipeline/local-stack';
import { ratioToCeiling, type BenchContext, type Figure } from './figure';
import { BENCHES } from './figures';
import { machineSpeedMs } from './machine-speed';
import { markdownTable, textTable } from './table';

const USAGE = `usage: pnpm bench [--smoke] [--only ID,...] [--out FILE] [--markdown]

  --smoke      the small CI version: a slice of the dataset, short load runs (figures printed, never asserted)
  --only       run only these benchmarks: ${BENCHES.map((bench) => bench.id).join(', ')}
  --out        results file (default bench/results.json, or bench/results-smoke.json with --smoke)
  --markdown   also print the table as Markdown (for the README)`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string' },
      markdown: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const only = values.only?.split(',').map((id) => id.trim());
  const unknown = only?.filter((id) => !BENCHES.some((bench) => bench.id === id));
  if (unknown?.length) throw new Error(`unknown benchmark(s): ${unknown.join(', ')}\n${USAGE}`);
  const selected = BENCHES.filter((bench) => !only || only.includes(bench.id));
  const smoke = values.smoke;
  const out = resolve(values.out ?? join(__dirname, '..', smoke ? 'results-smoke.json' : 'results.json'));
  const started = performance.now();
  const context: BenchContext = { smoke, log: (message) => console.log(`  [${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}`) };
  const loadAtStart = loadavg();
  const speedAtStart = machineSpeedMs();

  const figures: Figure[] = [];
  const failures: Array<{ bench: string; error: string }> = [];
  let pipeline: LocalPipeline | undefined;
  let startupSeconds = 0;
  const dir = await mkdtemp(join(tmpdir(), 'invoice-bench-'));
  try {
    for (const bench of selected) {
      context.log(`${bench.id}…`);
      // One benchmark failing does not lose the others' figures; the run still exits non-zero.
      try {
        if (bench.needs === 'nothing') {
          figures.push(...(await bench.run(context)));
          continue;
        }
        if (!pipeline) {
          const since = performance.now();
          pipeline = await startLocalPipeline({ dir, fresh: true, ports: FREE_PORTS });
          startupSeconds = (performance.now() - since) / 1000;
          context.log(`offline pipeline up in ${startupSeconds.toFixed(1)} s`);
        }
        figures.push(...(await bench.run({ ...context, pipeline, startupSeconds })));
      } catch (error) {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        context.log(`${bench.id} FAILED: ${message}`);
        failures.push({ bench: bench.id, error: message.split('\n')[0] ?? message });
      }
    }
  } finally {
    await pipeline?.stop();
    await rm(dir, { recursive: true, force: true });
  }

  const results = {
    generatedAt: new Date().toISOString(),
    smoke,
    seconds: Math.round((performance.now() - started) / 1000),
    machine: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      // Other work on the machine skews absolute figures; ratios to the in-run ceilings hold better.
      loadAverage: { atStart: loadAtStart.map((n) => Number(n.toFixed(2))), atEnd: loadavg().map((n) => Number(n.toFixed(2))) },
      // The machine's own speed drifts too (machine-speed.ts): the same fixed loop, in ms, at both ends of the run.
      speedCheckMs: { atStart: speedAtStart, atEnd: machineSpeedMs() },
    },
    figures: figures.map((figure) => ({ ...figure, ratioToCeiling: ratioToCeiling(figure) })),
    failures,
  };
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n${textTable(figures)}\n`);
  if (values.markdown) console.log(`${markdownTable(figures)}\n`);
  for (const failure of failures) console.log(`FAILED: ${failure.bench}: ${failure.error}`);
  const { loadAverage, speedCheckMs } = results.machine;
  console.log(
    `${figures.length} figures in ${results.seconds} s (load average ${loadAverage.atStart.join(' ')} at start, ${loadAverage.atEnd.join(' ')} at end; speed check ${speedCheckMs.atStart} ms at start, ${speedCheckMs.atEnd} ms at end, lower is faster); written to ${out}`,
  );
  return failures.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
