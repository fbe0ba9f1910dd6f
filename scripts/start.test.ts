import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { BUNDLED_SAMPLES } from '@invoice-pipeline/transactions/files';

const run = promisify(execFile);

/**
 * The main job end to end, as a user runs it: real serverless-offline services, the real replay over HTTP, every sink
 * read back and reconciled. On the Kaggle-layout sample so it stays quick; `pnpm start` runs the whole dataset.
 */
describe('pnpm start', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pipeline-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('runs both paths offline (a dump, then the replay) and reconciles every sink exactly with its sources', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', resolve(__dirname, 'start.ts'), '--source', BUNDLED_SAMPLES.kaggleHead, '--dir', dir, '--random-ports', '--exit'],
      { cwd: resolve(__dirname, '..'), env: { ...process.env, NODE_OPTIONS: '' }, maxBuffer: 16 * 1024 * 1024 },
    );
    expect(stdout).toContain('RECONCILED');
    const report = JSON.parse(await readFile(join(dir, 'reconciliation.json'), 'utf8'));
    expect(report.ok).toBe(true);
    expect(report.replayed).toMatchObject({ rows: 1_071, badRows: 0, unaccounted: 0 });
    expect(report.replayed.totals).toMatchObject({ lines: 1_071, invoices: 68, revenue: '24747.38' });
    for (const check of report.checks) expect(check.totals).toMatchObject({ lines: 1_071, invoices: 68, revenue: '24747.38' });
    // The default dump is the same sample: the batch path loaded every line, the stream sent each again, and the
    // warehouse holds each once.
    expect(report.dump).toMatchObject({ key: 'incoming/head-1071rows_kaggle-format_Kristina-A.csv', totals: { lines: 1_071, invoices: 68 } });
    expect(report.dump.loaded).toMatchObject({ files: 1, linesRecorded: 1_071, rejected: 0 });
    expect(report.union).toMatchObject({ inBoth: 1_071, totals: { lines: 1_071, invoices: 68, revenue: '24747.38' } });
  }, 240_000);
});
