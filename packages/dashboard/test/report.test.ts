/** `pnpm report` against a warehouse loaded with a real slice: the tables, --json and --csv. */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startEmbeddedWarehouse, type Warehouse } from '@invoice-pipeline/local-stack';
import { WAREHOUSE_COLUMNS, WAREHOUSE_TABLES } from '@invoice-pipeline/warehouse';
import { ANALYTICS_QUERY_NAMES, runAnalyticsQuery } from '@invoice-pipeline/warehouse/analytics';
import { readSliceRows } from '@invoice-pipeline/warehouse/testing';
import { AnalyticsReader, connectAnalytics, dialectOf, formatGbp, formatRate } from '../src';
import { formatReport } from '../src/report';

const run = promisify(execFile);
const REPORT = resolve(__dirname, '../src/report.ts');
const TSX = resolve(__dirname, '../../../node_modules/.bin/tsx');

let warehouse: Warehouse;
let out: string;

beforeAll(async () => {
  warehouse = await startEmbeddedWarehouse({});
  const rows = await readSliceRows();
  await warehouse.copyRows(WAREHOUSE_TABLES.lines, WAREHOUSE_COLUMNS.map((c) => c.name), rows as unknown as Record<string, unknown>[]);
  out = await mkdtemp(join(tmpdir(), 'report-'));
}, 180_000);

afterAll(async () => {
  await warehouse?.close();
  if (out) await rm(out, { recursive: true, force: true });
});

const report = (...args: string[]) => run(TSX, [REPORT, ...args], { env: { ...process.env, WAREHOUSE_URL: warehouse.url }, maxBuffer: 64 * 1024 * 1024 });

describe('pnpm report', () => {
  it('prints the main figures in aligned tables, in GBP', async () => {
    const connection = connectAnalytics(warehouse.url);
    try {
      const results = await new AnalyticsReader(connection.db).read(ANALYTICS_QUERY_NAMES);
      const [kpis] = await runAnalyticsQuery(connection.db, 'kpis');
      const [cancellations] = await runAnalyticsQuery(connection.db, 'cancellationsOverall');
      const text = formatReport(results);
      expect(text).toMatch(new RegExp(`Net revenue \\(sales \\+ cancellations \\+ adjustments\\)\\s+${formatGbp(kpis?.net_revenue).replace(/[£.]/g, '\\$&')}\\n`));
      expect(text).toContain(formatGbp(kpis?.adjustments));
      expect(text).toContain(formatRate(cancellations?.invoice_rate));
      expect(text).toContain('RFM segments');
      // Right-aligned money: every line of the monthly table has its figures ending in the same columns.
      const monthly = text.split('Revenue by month\n')[1]?.split('\n\n')[0]?.split('\n').slice(2) ?? [];
      expect(new Set(monthly.map((line) => line.length)).size).toBe(1);
      expect(monthly).toHaveLength(13);
    } finally {
      await connection.close();
    }
  });

  it('writes every query as JSON and as CSV files', async () => {
    const { stdout } = await report('--json');
    const json = JSON.parse(stdout) as Record<string, unknown[]>;
    expect(Object.keys(json).sort()).toEqual([...ANALYTICS_QUERY_NAMES].sort());
    expect((json.kpis?.[0] as { lines: number }).lines).toBe(4_076);

    const { stdout: said } = await report('--csv', out);
    expect(said).toContain(`${ANALYTICS_QUERY_NAMES.length} CSV files`);
    expect((await readdir(out)).sort()).toEqual(ANALYTICS_QUERY_NAMES.map((n) => `${n}.csv`).sort());
    const months = (await readFile(join(out, 'revenueByMonth.csv'), 'utf8')).trim().split('\r\n');
    expect(months[0]).toBe('period_start,net_revenue,sales,cancellations,adjustments,sale_invoices,lines');
    expect(months).toHaveLength(14);
  }, 120_000);

  it('says clearly when there is no warehouse to read', async () => {
    await expect(run(TSX, [REPORT, '--dir', out], { env: { ...process.env, WAREHOUSE_URL: '' } })).rejects.toMatchObject({ stderr: expect.stringMatching(/endpoints\.json \(ENOENT\): start the local stack \(pnpm stack/) });
  }, 60_000);

  it('prints a query rendered for Redshift', async () => {
    const { stdout } = await report('--sql', 'rfmSegments');
    expect(stdout).toContain('FROM customer_rfm');
    await expect(report('--sql', 'nope')).rejects.toMatchObject({ code: 2 });
  }, 60_000);

  it('knows Redshift by its endpoint', () => {
    expect(dialectOf('postgres://u:p@wg.123456789012.eu-west-2.redshift-serverless.amazonaws.com:5439/dev')).toBe('redshift');
    expect(dialectOf('postgres://u:p@c1.abc.eu-west-2.redshift.amazonaws.com:5439/dev')).toBe('redshift');
    expect(dialectOf('postgres://postgres:postgres@127.0.0.1:5439/postgres')).toBe('postgres');
  });
});
