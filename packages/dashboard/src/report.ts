/**
 * `pnpm report`: the main figures of the warehouse in the terminal (aligned tables, GBP), or written for other
 * tools with --json (to stdout) or --csv DIR (one file per query). Reads the local warehouse (.local/endpoints.json)
 * or WAREHOUSE_URL.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ANALYTICS_QUERIES, ANALYTICS_QUERY_NAMES, analyticsSql, type AnalyticsDialect, type AnalyticsQueryName, type AnalyticsResults } from '@invoice-pipeline/warehouse/analytics';
import { AnalyticsReader } from './analytics';
import { connectAnalytics, warehouseUrl } from './connect';
import { formatCount, formatGbp, formatRate, renderTable, toCsv, type Column } from './format';

const USAGE = `usage: pnpm report [--json | --csv DIR] [--dir STATE_DIR]
       pnpm report --sql QUERY [--dialect redshift|postgres]

  Prints the main figures of the warehouse. Reads WAREHOUSE_URL when set, else the local run's warehouse
  (.local/endpoints.json, or STATE_DIR/endpoints.json).
  --json      every query's rows as one JSON document on stdout (money as exact decimal text)
  --csv DIR   one CSV file per query in DIR
  --sql QUERY print a query's SQL for an engine (to paste into Power BI or a query editor); QUERY is one of
              ${ANALYTICS_QUERY_NAMES.join(', ')}`;

const right = (title: string): Column => ({ title, align: 'right' });
const left = (title: string): Column => ({ title });

/** The terminal report: a few tables of the main figures. */
export function formatReport(r: AnalyticsResults): string {
  const [k] = r.kpis;
  const [basket] = r.basket;
  const [cancel] = r.cancellationsOverall;
  const sections: Array<[string, string]> = [
    [
      'Headline',
      renderTable(
        [left('figure'), right('value')],
        [
          ['Net revenue (sales + cancellations + adjustments)', formatGbp(k?.net_revenue)],
          ['Sales', formatGbp(k?.sales)],
          ['Cancellations', formatGbp(k?.cancellations)],
          ['Adjustments (bad debt)', formatGbp(k?.adjustments)],
          ['Lines', formatCount(k?.lines)],
          ['Invoices (sale / cancellation / adjustment)', `${formatCount(k?.sale_invoices)} / ${formatCount(k?.cancellation_invoices)} / ${formatCount(k?.adjustment_invoices)}`],
          ['Customers with a sale', formatCount(k?.customers)],
          ['Average basket (value / units / lines)', `${formatGbp(basket?.avg_value)} / ${basket?.avg_units ?? '–'} / ${basket?.avg_lines ?? '–'}`],
          ['Cancellation rate (invoices / units)', `${formatRate(cancel?.invoice_rate)} / ${formatRate(cancel?.unit_rate)}`],
          ['First / last invoice', `${k?.first_invoice_at ?? '–'} / ${k?.last_invoice_at ?? '–'}`],
        ],
      ),
    ],
    [
      'Revenue by month',
      renderTable(
        [left('month'), right('net revenue'), right('sales'), right('cancellations'), right('adjustments'), right('sale invoices')],
        r.revenueByMonth.map((m) => [m.period_start.slice(0, 7), formatGbp(m.net_revenue), formatGbp(m.sales), formatGbp(m.cancellations), formatGbp(m.adjustments), formatCount(m.sale_invoices)]),
      ),
    ],
    [
      'Countries (top 10 by net revenue)',
      renderTable(
        [left('country'), right('net revenue'), right('sale invoices'), right('customers')],
        r.revenueByCountry.slice(0, 10).map((c) => [c.country, formatGbp(c.net_revenue), formatCount(c.sale_invoices), formatCount(c.customers)]),
      ),
    ],
    ...(['topProductsByRevenue', 'topProductsByQuantity', 'topCodesByRevenue'] as const).map(
      (name) =>
        [
          ANALYTICS_QUERIES[name].title,
          renderTable(
            [left('stock code'), left('description'), right('net revenue'), right('net quantity')],
            r[name].map((p) => [p.stock_code, (p.description ?? '').trim().slice(0, 40), formatGbp(p.net_revenue), formatCount(p.net_quantity)]),
          ),
        ] as [string, string],
    ),
    [
      'Cancellations by country (most sale invoices first, top 10)',
      renderTable(
        [left('country'), right('sale inv.'), right('cancel inv.'), right('invoice rate'), right('unit rate'), right('cancelled value')],
        r.cancellationsByCountry.slice(0, 10).map((c) => [c.grouped_by, formatCount(c.sale_invoices), formatCount(c.cancellation_invoices), formatRate(c.invoice_rate), formatRate(c.unit_rate), formatGbp(c.cancelled_value)]),
      ),
    ],
    [
      'Monthly active customers',
      renderTable(
        [left('month'), right('active'), right('new'), right('returning')],
        r.monthlyCustomers.map((m) => [m.month, formatCount(m.active_customers), formatCount(m.new_customers), formatCount(m.returning_customers)]),
      ),
    ],
    [
      'RFM segments',
      renderTable(
        [left('segment'), right('customers'), right('avg recency (days)'), right('avg invoices'), right('net revenue')],
        r.rfmSegments.map((s) => [s.segment, formatCount(s.customers), s.avg_recency_days, s.avg_frequency, formatGbp(s.monetary)]),
      ),
    ],
    [
      'Data quality (all days)',
      renderTable(
        [left('lines …'), right('count')],
        (
          [
            ['without a customer', 'without_customer'],
            ['without a description', 'without_description'],
            ['at a zero price', 'zero_price'],
            ['on a non-product code', 'non_product'],
            ['bad rows (stream)', 'bad_rows'],
            ['rejected dump rows', 'rejected_dump_rows'],
          ] as const
        ).map(([label, key]) => [label, formatCount(r.dataQualityByDay.reduce((n, d) => n + d[key], 0))]),
      ),
    ],
  ];
  return sections.map(([title, table]) => `${title}\n${table}`).join('\n\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      csv: { type: 'string' },
      dir: { type: 'string' },
      sql: { type: 'string' },
      dialect: { type: 'string', default: 'redshift' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.sql !== undefined) {
    if (!(ANALYTICS_QUERY_NAMES as string[]).includes(values.sql) || !['redshift', 'postgres'].includes(values.dialect)) {
      console.error(USAGE);
      return 2;
    }
    console.log(analyticsSql(values.sql as AnalyticsQueryName, values.dialect as AnalyticsDialect));
    return 0;
  }
  const url = await warehouseUrl(process.env, values.dir);
  const warehouse = connectAnalytics(url);
  try {
    const results = await new AnalyticsReader(warehouse.db).read(ANALYTICS_QUERY_NAMES);
    if (values.json) {
      process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    } else if (values.csv) {
      const dir = resolve(values.csv);
      await mkdir(dir, { recursive: true });
      for (const name of ANALYTICS_QUERY_NAMES) await writeFile(join(dir, `${name}.csv`), toCsv(results[name] as unknown as Record<string, unknown>[]));
      console.log(`${ANALYTICS_QUERY_NAMES.length} CSV files written to ${dir}`);
    } else {
      console.log(formatReport(results));
    }
    return 0;
  } finally {
    await warehouse.close();
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`report failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
