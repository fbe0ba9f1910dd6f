/**
 * The dashboard in a real browser (Debian chromium driven by playwright-core): loaded with a real slice of the
 * dataset, every chart renders with data, the KPI cards equal the warehouse's own figures, and the page follows the
 * warehouse as lines land. Keeps a screenshot in packages/dashboard/test-results/ (gitignored).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startEmbeddedWarehouse, type Warehouse } from '@invoice-pipeline/local-stack';
import { WAREHOUSE_COLUMNS, WAREHOUSE_TABLES, type WarehouseRow } from '@invoice-pipeline/warehouse';
import { runAnalyticsQuery } from '@invoice-pipeline/warehouse/analytics';
import { readSliceRows } from '@invoice-pipeline/warehouse/testing';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { AnalyticsReader, connectAnalytics, formatCount, formatGbp, formatRate, startDashboard, type RunningDashboard } from '../src';

const SCREENSHOT_DIR = resolve(__dirname, '../test-results');
const columns = WAREHOUSE_COLUMNS.map((c) => c.name);
const CHARTS = ['revenueByDay', 'revenueByMonth', 'countries', 'topProducts', 'topProductsByQuantity', 'customers', 'cohorts', 'rfm', 'quality'];

let warehouse: Warehouse;
let analytics: ReturnType<typeof connectAnalytics>;
let dashboard: RunningDashboard;
let browser: BrowserContext;
let page: Page;
let profile: string;
let slice: WarehouseRow[];

const load = (rows: readonly WarehouseRow[]) => warehouse.copyRows(WAREHOUSE_TABLES.lines, columns, rows as unknown as Record<string, unknown>[]);
const kpiText = (key: string) => page.locator(`[data-kpi="${key}"] .value`).innerText();
/** Waits until a KPI card shows `text` (the page refreshes every second). */
const kpiShows = (key: string, text: string) =>
  page.waitForFunction(([k, t]) => document.querySelector(`[data-kpi="${k}"] .value`)?.textContent === t, [key, text] as const, { timeout: 20_000 });

beforeAll(async () => {
  slice = await readSliceRows();
  warehouse = await startEmbeddedWarehouse({});
  await load(slice.filter((l) => l.invoice_date < '2011-12-01'));
  analytics = connectAnalytics(warehouse.url);
  const badRows = [{ key: 'bad-rows/dt=2011-11-01/shardId-000000000000/1.json', lastModified: new Date() }];
  const reader = new AnalyticsReader(analytics.db, [{ source: 'bad-row', list: async () => badRows, read: async () => '' }]);
  dashboard = await startDashboard({ reader, port: 0, refreshMs: 1_000, sinks: async () => [{ sink: 'DynamoDB', count: 123_456, unit: 'lines' }] });
  profile = await mkdtemp(join(tmpdir(), 'dashboard-chromium-'));
  // A fresh profile per run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1440, height: 900 },
    locale: 'en-GB',
  });
  page = await browser.newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.stop();
  await analytics?.close();
  await warehouse?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

async function expectKpisToMatchWarehouse(): Promise<void> {
  const [kpis] = await runAnalyticsQuery(analytics.db, 'kpis');
  const [cancellations] = await runAnalyticsQuery(analytics.db, 'cancellationsOverall');
  const [basket] = await runAnalyticsQuery(analytics.db, 'basket');
  await kpiShows('netRevenue', formatGbp(kpis?.net_revenue));
  expect(await kpiText('sales')).toBe(formatGbp(kpis?.sales));
  expect(await kpiText('saleInvoices')).toBe(formatCount(kpis?.sale_invoices));
  expect(await kpiText('customers')).toBe(formatCount(kpis?.customers));
  expect(await kpiText('basket')).toBe(formatGbp(basket?.avg_value));
  expect(await kpiText('cancellationRate')).toBe(formatRate(cancellations?.invoice_rate));
}

describe('the dashboard in chromium', () => {
  it('serves the page and ECharts from the project, and nothing from elsewhere', async () => {
    const outside: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(dashboard.url)) outside.push(request.url());
    });
    const response = await page.goto(dashboard.url);
    expect(response?.status()).toBe(200);
    await page.waitForSelector('body[data-updated]', { timeout: 30_000 });
    expect(await page.evaluate(() => typeof (window as unknown as { echarts?: { version: string } }).echarts?.version)).toBe('string');
    expect(outside).toEqual([]);
  }, 60_000);

  it('renders every chart with data and the KPIs of the warehouse', async () => {
    for (const chart of CHARTS) {
      const element = page.locator(`[data-chart="${chart}"]`);
      await page.waitForFunction((name) => Number(document.querySelector<HTMLElement>(`[data-chart="${name}"]`)?.dataset.points) > 0, chart, { timeout: 10_000 });
      expect(await element.locator('canvas').count()).toBeGreaterThan(0);
    }
    await expectKpisToMatchWarehouse();
    expect(await kpiText('netRevenue')).toMatch(/^£\d{1,3}(,\d{3})*\.\d{2}$/);
    const health = await page.locator('#health').innerText();
    expect(health).toContain('DynamoDB');
    expect(health).toContain('123,456 lines');
    expect(health).toMatch(/Bad rows set aside by the stream processor\s+1/);
  }, 60_000);

  it('follows the warehouse while lines land, and keeps a screenshot', async () => {
    const before = await kpiText('netRevenue');
    await load(slice.filter((l) => l.invoice_date >= '2011-12-01'));
    await page.waitForFunction((text) => document.querySelector('[data-kpi="netRevenue"] .value')?.textContent !== text, before, { timeout: 20_000 });
    await expectKpisToMatchWarehouse();
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'dashboard.png'), fullPage: true });
  }, 60_000);
});
