/**
 * Every analytics query on a small real slice of the dataset (test/fixtures), in the embedded Postgres, against
 * figures computed here independently from the same rows in plain TypeScript (exact bigint money).
 */
import { PGlite } from '@electric-sql/pglite';
import { parseMillis } from '@invoice-pipeline/transactions';
import { MIGRATIONS_TABLE_DDL, WAREHOUSE_COLUMNS, WAREHOUSE_MIGRATIONS, type WarehouseRow } from '../src';
import {
  ANALYTICS_QUERY_NAMES,
  prepareAnalytics,
  rebuildAnalytics,
  recordRejects,
  runAnalyticsQuery,
  type AnalyticsDb,
  type PipelineReject,
} from '../src/analytics';
import { readSliceRows } from '../src/testing';
import { groupBy, isProductCode, latestDescription, millis, monthOf, ntile, ratio, rfmSegment, weekOf } from './expected';

let db: PGlite;
let analytics: AnalyticsDb;
let rows: WarehouseRow[];

const sum = (values: Iterable<bigint>) => [...values].reduce((a, b) => a + b, 0n);
const total = (lines: WarehouseRow[]) => sum(lines.map((l) => millis(l.line_total)));
const distinct = <T>(values: Iterable<T>) => new Set(values).size;
const sales = (lines: WarehouseRow[]) => lines.filter((l) => l.invoice_type === 'sale');
const ofType = (lines: WarehouseRow[], type: string) => lines.filter((l) => l.invoice_type === type);
const day = (l: WarehouseRow) => l.invoice_date.slice(0, 10);
/** Money from a query, as exact thousandths. */
const money = (text: string | null | undefined) => (text === null || text === undefined ? undefined : parseMillis(text));

beforeAll(async () => {
  rows = await readSliceRows();
  db = new PGlite();
  await db.exec([MIGRATIONS_TABLE_DDL, ...WAREHOUSE_MIGRATIONS.flatMap((m) => m.statements('postgres'))].join('\n'));
  const columns = WAREHOUSE_COLUMNS.map((c) => c.name);
  for (let start = 0; start < rows.length; start += 1_000) {
    const chunk = rows.slice(start, start + 1_000);
    const values = chunk.map((_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`).join(', ');
    await db.query(`INSERT INTO invoice_lines (${columns.join(', ')}) VALUES ${values}`, chunk.flatMap((row) => columns.map((c) => row[c])));
  }
  analytics = {
    dialect: 'postgres',
    query: async <T>(sql: string, params?: unknown[]) => (await db.query<T>(sql, params)).rows,
    execute: async (script) => void (await db.exec(script)),
  };
  await prepareAnalytics(analytics);
  await prepareAnalytics(analytics); // idempotent
  await rebuildAnalytics(analytics);
}, 180_000);

afterAll(async () => {
  await db?.close();
});

describe('the slice', () => {
  it('holds sales, cancellations, the three bad-debt adjustments, guests and non-product codes', () => {
    expect(rows.length).toBe(4_076);
    expect(ofType(rows, 'cancellation').length).toBeGreaterThan(50);
    expect(ofType(rows, 'adjustment').map((l) => [l.invoice_no, l.line_total])).toEqual([
      ['A563185', '11062.06'],
      ['A563186', '-11062.06'],
      ['A563187', '-11062.06'],
    ]);
    expect(rows.some((l) => l.customer_id === null)).toBe(true);
    expect(rows.some((l) => !isProductCode(l.stock_code))).toBe(true);
    expect(distinct(rows.map(monthOf))).toBe(13);
  });
});

describe('analytics queries', () => {
  it('kpis: counts and net revenue = sales + cancellations + adjustments', async () => {
    const [kpis] = await runAnalyticsQuery(analytics, 'kpis');
    const dates = rows.map((l) => l.invoice_date.replace('T', ' ')).sort();
    expect(kpis).toMatchObject({
      lines: rows.length,
      invoices: distinct(rows.map((l) => l.invoice_no)),
      sale_invoices: distinct(sales(rows).map((l) => l.invoice_no)),
      cancellation_invoices: distinct(ofType(rows, 'cancellation').map((l) => l.invoice_no)),
      adjustment_invoices: 3,
      customers: distinct(sales(rows).flatMap((l) => (l.customer_id ? [l.customer_id] : []))),
      countries: distinct(rows.map((l) => l.country)),
      first_invoice_at: dates[0],
      last_invoice_at: dates.at(-1),
    });
    expect(money(kpis?.net_revenue)).toBe(total(rows));
    expect(money(kpis?.sales)).toBe(total(sales(rows)));
    expect(money(kpis?.cancellations)).toBe(total(ofType(rows, 'cancellation')));
    expect(money(kpis?.adjustments)).toBe(-11_062_060n);
    expect(total(sales(rows)) + total(ofType(rows, 'cancellation')) - 11_062_060n).toBe(total(rows));
  });

  it.each([
    ['revenueByDay', day],
    ['revenueByWeek', weekOf],
    ['revenueByMonth', (l: WarehouseRow) => `${monthOf(l)}-01`],
  ] as const)('%s: revenue of each period', async (name, periodOf) => {
    const result = await runAnalyticsQuery(analytics, name);
    const expected = [...groupBy(rows, periodOf)].sort(([a], [b]) => (a < b ? -1 : 1));
    expect(result.map((r) => r.period_start)).toEqual(expected.map(([period]) => period));
    expect(result.map((r) => [money(r.net_revenue), money(r.sales), money(r.cancellations), money(r.adjustments), r.sale_invoices, r.lines])).toEqual(
      expected.map(([, lines]) => [total(lines), total(sales(lines)), total(ofType(lines, 'cancellation')), total(ofType(lines, 'adjustment')), distinct(sales(lines).map((l) => l.invoice_no)), lines.length]),
    );
  });

  it('revenueByCountry: every country, largest net revenue first', async () => {
    const result = await runAnalyticsQuery(analytics, 'revenueByCountry');
    const expected = [...groupBy(rows, (l) => l.country)]
      .map(([country, lines]) => ({ country, net: total(lines), lines }))
      .sort((a, b) => (a.net === b.net ? (a.country < b.country ? -1 : 1) : a.net > b.net ? -1 : 1));
    expect(result.map((r) => [r.country, money(r.net_revenue), money(r.cancellations), r.sale_invoices, r.customers])).toEqual(
      expected.map((e) => [
        e.country,
        e.net,
        total(ofType(e.lines, 'cancellation')),
        distinct(sales(e.lines).map((l) => l.invoice_no)),
        distinct(sales(e.lines).flatMap((l) => (l.customer_id ? [l.customer_id] : []))),
      ]),
    );
  });

  it.each([
    ['topProductsByRevenue', true, 'revenue'],
    ['topProductsByQuantity', true, 'quantity'],
    ['topCodesByRevenue', false, 'revenue'],
    ['topCodesByQuantity', false, 'quantity'],
  ] as const)('%s: the ten best stock codes', async (name, productsOnly, rankBy) => {
    const result = await runAnalyticsQuery(analytics, name);
    const netQuantity = (lines: WarehouseRow[]) => lines.filter((l) => l.invoice_type !== 'adjustment').reduce((n, l) => n + l.quantity, 0);
    const metric = (lines: WarehouseRow[]) => (rankBy === 'revenue' ? total(lines) : BigInt(netQuantity(lines)));
    const expected = [...groupBy(rows, (l) => l.stock_code)]
      .filter(([code]) => !productsOnly || isProductCode(code))
      .sort(([codeA, a], [codeB, b]) => (metric(a) === metric(b) ? (codeA < codeB ? -1 : 1) : metric(a) > metric(b) ? -1 : 1))
      .slice(0, 10);
    expect(result.map((r) => [r.stock_code, r.description, money(r.net_revenue), r.net_quantity, r.sold_quantity, r.sale_invoices])).toEqual(
      expected.map(([code, lines]) => [
        code,
        latestDescription(lines),
        total(lines),
        netQuantity(lines),
        sales(lines).reduce((n, l) => n + l.quantity, 0),
        distinct(sales(lines).map((l) => l.invoice_no)),
      ]),
    );
    if (productsOnly) expect(result.every((r) => r.code_kind === 'product')).toBe(true);
  });

  it('basket: average value, units and lines of a sale invoice', async () => {
    const [basket] = await runAnalyticsQuery(analytics, 'basket');
    const invoices = [...groupBy(sales(rows), (l) => l.invoice_no).values()];
    const n = BigInt(invoices.length);
    expect(basket?.sale_invoices).toBe(invoices.length);
    expect(money(basket?.sales)).toBe(total(sales(rows)));
    expect(basket?.avg_value).toBe(ratio(total(sales(rows)), n * 1_000n, 2));
    expect(basket?.avg_units).toBe(ratio(BigInt(sales(rows).reduce((q, l) => q + l.quantity, 0)), n, 2));
    expect(basket?.avg_lines).toBe(ratio(BigInt(sales(rows).length), n, 2));
  });

  const cancellationFigures = (lines: WarehouseRow[]) => {
    const saleInvoices = distinct(sales(lines).map((l) => l.invoice_no));
    const cancellationInvoices = distinct(ofType(lines, 'cancellation').map((l) => l.invoice_no));
    const sold = sales(lines).reduce((q, l) => q + l.quantity, 0);
    const cancelled = ofType(lines, 'cancellation').reduce((q, l) => q - l.quantity, 0);
    return {
      sale_invoices: saleInvoices,
      cancellation_invoices: cancellationInvoices,
      sold_units: sold,
      cancelled_units: cancelled,
      cancelled_value: total(ofType(lines, 'cancellation')),
      invoice_rate: saleInvoices + cancellationInvoices ? ratio(BigInt(cancellationInvoices), BigInt(saleInvoices + cancellationInvoices), 4) : null,
      unit_rate: sold ? ratio(BigInt(cancelled), BigInt(sold), 4) : null,
    };
  };
  const asFigures = (r: { sale_invoices: number; cancellation_invoices: number; sold_units: number | null; cancelled_units: number | null; cancelled_value: string; invoice_rate: string | null; unit_rate: string | null }) => ({
    ...r,
    cancelled_value: money(r.cancelled_value),
  });

  it('cancellationsOverall: invoice and unit cancellation rates', async () => {
    const [overall] = await runAnalyticsQuery(analytics, 'cancellationsOverall');
    const { grouped_by, label, ...figures } = overall!;
    expect([grouped_by, label]).toEqual(['all', null]);
    expect(asFigures(figures)).toEqual(cancellationFigures(rows));
    expect(Number(figures.invoice_rate)).toBeGreaterThan(0);
  });

  it('cancellationsByCountry: every country, most sale invoices first', async () => {
    const result = await runAnalyticsQuery(analytics, 'cancellationsByCountry');
    const expected = [...groupBy(rows, (l) => l.country)]
      .map(([country, lines]) => ({ country, ...cancellationFigures(lines) }))
      .sort((a, b) => (a.sale_invoices === b.sale_invoices ? (a.country < b.country ? -1 : 1) : b.sale_invoices - a.sale_invoices));
    expect(result.map(({ grouped_by, label: _label, ...figures }) => ({ country: grouped_by, ...asFigures(figures) }))).toEqual(expected);
  });

  it('cancellationsByProduct: the fifteen goods with most cancelled units', async () => {
    const result = await runAnalyticsQuery(analytics, 'cancellationsByProduct');
    const expected = [...groupBy(rows, (l) => l.stock_code)]
      .filter(([code]) => isProductCode(code))
      .map(([code, lines]) => ({ code, description: latestDescription(lines), ...cancellationFigures(lines) }))
      .sort((a, b) => (a.cancelled_units === b.cancelled_units ? (a.code < b.code ? -1 : 1) : b.cancelled_units - a.cancelled_units))
      .slice(0, 15);
    expect(result.map(({ grouped_by, label, ...figures }) => ({ code: grouped_by, description: label, ...asFigures(figures) }))).toEqual(expected);
    expect(result[0]?.cancelled_units).toBeGreaterThan(0);
  });

  /** Per customer with a sale: their first sale month (cohort) and the months they bought in. */
  const customerMonths = () => {
    const months = new Map<string, Set<string>>();
    for (const line of sales(rows)) {
      if (!line.customer_id) continue;
      const set = months.get(line.customer_id) ?? new Set<string>();
      set.add(monthOf(line));
      months.set(line.customer_id, set);
    }
    return [...months].map(([customer, set]) => ({ customer, cohort: [...set].sort()[0] as string, months: set }));
  };

  it('monthlyCustomers: active customers per month, new and returning', async () => {
    const result = await runAnalyticsQuery(analytics, 'monthlyCustomers');
    const customers = customerMonths();
    const months = [...new Set(rows.map(monthOf))].sort();
    expect(result).toEqual(
      months.map((month) => {
        const active = customers.filter((c) => c.months.has(month));
        const fresh = active.filter((c) => c.cohort === month).length;
        return { month, active_customers: active.length, new_customers: fresh, returning_customers: active.length - fresh };
      }),
    );
    expect(result.some((m) => m.returning_customers > 0)).toBe(true);
  });

  it('cohortRetention: customers of each cohort buying again k months later', async () => {
    const result = await runAnalyticsQuery(analytics, 'cohortRetention');
    const index = (month: string) => Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7));
    const cells = new Map<string, { cohort: string; offset: number; retained: number }>();
    const sizes = new Map<string, number>();
    for (const c of customerMonths()) {
      sizes.set(c.cohort, (sizes.get(c.cohort) ?? 0) + 1);
      for (const month of c.months) {
        const offset = index(month) - index(c.cohort);
        const key = `${c.cohort} ${String(offset).padStart(2, '0')}`;
        const cell = cells.get(key) ?? { cohort: c.cohort, offset, retained: 0 };
        cell.retained += 1;
        cells.set(key, cell);
      }
    }
    const expected = [...cells.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, cell]) => {
        const size = sizes.get(cell.cohort) ?? 0;
        return { cohort: cell.cohort, month_offset: cell.offset, cohort_customers: size, retained_customers: cell.retained, retention: ratio(BigInt(cell.retained), BigInt(size), 4) };
      });
    expect(result).toEqual(expected);
    expect(result.filter((r) => r.month_offset === 0).every((r) => r.retention === '1.0000')).toBe(true);
    expect(result.some((r) => r.month_offset > 0)).toBe(true);
  });

  /** RFM restated: recency from the last sale to the newest invoice day, frequency, net revenue, quintiles. */
  const expectedRfm = () => {
    const newest = rows.map(day).sort().at(-1) as string;
    const days = (from: string, to: string) => (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000;
    const customers = [...groupBy(rows.filter((l) => l.customer_id), (l) => l.customer_id as string)]
      .filter(([, lines]) => sales(lines).length > 0)
      .map(([customer_id, lines]) => ({
        customer_id,
        recency_days: days(sales(lines).map(day).sort().at(-1) as string, newest),
        frequency: distinct(sales(lines).map((l) => l.invoice_no)),
        monetary: total(lines),
      }));
    const byId = (a: { customer_id: string }, b: { customer_id: string }) => (a.customer_id < b.customer_id ? -1 : 1);
    const r = ntile(customers, 5, (a, b) => b.recency_days - a.recency_days || byId(a, b));
    const f = ntile(customers, 5, (a, b) => a.frequency - b.frequency || byId(a, b));
    const m = ntile(customers, 5, (a, b) => (a.monetary === b.monetary ? byId(a, b) : a.monetary < b.monetary ? -1 : 1));
    return customers.sort(byId).map((c) => {
      const [rs, fs, ms] = [r.get(c) as number, f.get(c) as number, m.get(c) as number];
      return { ...c, r_score: rs, f_score: fs, m_score: ms, rfm_code: `${rs}${fs}${ms}`, segment: rfmSegment(rs, fs) };
    });
  };

  it('rfmCustomers: recency, frequency, monetary, quintile scores and segment of every customer', async () => {
    const result = await runAnalyticsQuery(analytics, 'rfmCustomers');
    expect(result.map((r) => ({ ...r, monetary: money(r.monetary) }))).toEqual(expectedRfm());
  });

  it('rfmSegments: the size of each segment', async () => {
    const result = await runAnalyticsQuery(analytics, 'rfmSegments');
    const expected = [...groupBy(expectedRfm(), (c) => c.segment)]
      .map(([segment, members]) => ({
        segment,
        customers: members.length,
        avg_recency_days: ratio(BigInt(members.reduce((n, c) => n + c.recency_days, 0)), BigInt(members.length), 1),
        avg_frequency: ratio(BigInt(members.reduce((n, c) => n + c.frequency, 0)), BigInt(members.length), 1),
        monetary: sum(members.map((c) => c.monetary)),
      }))
      .sort((a, b) => b.customers - a.customers || (a.segment < b.segment ? -1 : 1));
    expect(result.map((r) => ({ ...r, monetary: money(r.monetary) }))).toEqual(expected);
    expect(result.length).toBeGreaterThanOrEqual(5);
  });

  it('dataQualityByDay: lines with gaps per invoice day, bad rows and rejected dump rows per day set aside', async () => {
    const rejects: PipelineReject[] = [
      { source: 'bad-row', objectKey: 'bad-rows/dt=2010-12-01/shard-0/1.json', rejectedOn: '2010-12-01', rowCount: 1 },
      { source: 'bad-row', objectKey: 'bad-rows/dt=2010-12-01/shard-0/2.json', rejectedOn: '2010-12-01', rowCount: 1 },
      { source: 'dump-row', objectKey: 'rejected/dump-1.json', rejectedOn: '2012-01-02', rowCount: 7 },
    ];
    expect(await recordRejects(analytics, rejects)).toBe(3);
    expect(await recordRejects(analytics, rejects)).toBe(0); // a listing recorded again changes nothing
    const result = await runAnalyticsQuery(analytics, 'dataQualityByDay');
    const expected = [...groupBy(rows, day)]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([d, lines]) => ({
        day: d,
        lines: lines.length,
        without_customer: lines.filter((l) => l.customer_id === null).length,
        without_description: lines.filter((l) => l.description === null).length,
        zero_price: lines.filter((l) => millis(l.unit_price) === 0n).length,
        non_product: lines.filter((l) => !isProductCode(l.stock_code)).length,
        bad_rows: d === '2010-12-01' ? 2 : 0,
        rejected_dump_rows: 0,
      }));
    expected.push({ day: '2012-01-02', lines: 0, without_customer: 0, without_description: 0, zero_price: 0, non_product: 0, bad_rows: 0, rejected_dump_rows: 7 });
    expect(result).toEqual(expected);
    expect(result.reduce((n, r) => n + r.without_customer, 0)).toBeGreaterThan(0);
  });

  it('pipelineHealth: lines merged, rows staged and since when, rejects, the clock', async () => {
    const before = await runAnalyticsQuery(analytics, 'pipelineHealth');
    expect(before[0]).toMatchObject({ lines: rows.length, staged_rows: 0, oldest_staged_at: null, bad_rows: 2, rejected_dump_rows: 7, newest_invoice_at: rows.map((l) => l.invoice_date.replace('T', ' ')).sort().at(-1) });
    await db.query(`INSERT INTO invoice_lines_staging (invoice_no, line_no, invoice_type, invoice_date, country, store_id, stock_code, quantity, unit_price, line_total) VALUES ('1', 1, 'sale', '2011-12-09 12:50:00', 'France', 'online', 'X', 1, 1, 1)`);
    const [after] = await runAnalyticsQuery(analytics, 'pipelineHealth');
    expect(after?.staged_rows).toBe(1);
    expect(Date.parse(`${after?.measured_at.replace(' ', 'T')}Z`)).toBeGreaterThanOrEqual(Date.parse(`${after?.oldest_staged_at?.replace(' ', 'T')}Z`));
    expect(Date.parse(`${after?.measured_at.replace(' ', 'T')}Z`)).toBeGreaterThanOrEqual(Date.parse(`${after?.newest_merged_at?.replace(' ', 'T')}Z`));
    await db.query('DELETE FROM invoice_lines_staging');
  });

  it('dim_product: every non-product code of the slice has its kind', async () => {
    const { rows: codes } = await db.query<{ stock_code: string; code_kind: string }>('SELECT stock_code, code_kind FROM dim_product WHERE NOT is_product ORDER BY stock_code');
    const expected = [...new Set(rows.map((l) => l.stock_code))].filter((code) => !isProductCode(code)).sort();
    expect(codes.map((c) => c.stock_code)).toEqual(expected);
    expect(new Set(codes.map((c) => c.code_kind))).toEqual(new Set(['postage', 'manual', 'discount', 'fee', 'commission', 'bad debt', 'gift voucher', 'samples'].filter((kind) => codes.some((c) => c.code_kind === kind))));
    expect(codes.length).toBeGreaterThanOrEqual(4);
  });

  it('every query is covered above, and the rebuild is idempotent', async () => {
    expect(ANALYTICS_QUERY_NAMES).toHaveLength(19);
    const counts = async () => (await db.query<{ n: number }>(`SELECT (SELECT COUNT(*) FROM dim_date) + (SELECT COUNT(*) FROM dim_product) + (SELECT COUNT(*) FROM dim_customer) + (SELECT COUNT(*) FROM customer_rfm) AS n`)).rows[0]?.n;
    const first = await counts();
    await rebuildAnalytics(analytics);
    expect(await counts()).toBe(first);
    expect(await runAnalyticsQuery(analytics, 'rfmCustomers')).toHaveLength(expectedRfm().length);
  });
});
