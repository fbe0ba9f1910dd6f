import type { AnalyticsResults } from '@invoice-pipeline/warehouse/analytics';
import { secondsBetween, type AnalyticsReader } from './analytics';
import { formatAge, formatCount, formatGbp, formatRate } from './format';

/** The queries the dashboard shows. */
export const DASHBOARD_QUERIES = [
  'kpis',
  'revenueByDay',
  'revenueByMonth',
  'revenueByCountry',
  'topProductsByRevenue',
  'topProductsByQuantity',
  'basket',
  'cancellationsOverall',
  'monthlyCustomers',
  'cohortRetention',
  'rfmSegments',
  'dataQualityByDay',
  'pipelineHealth',
] as const;

export type DashboardResults = Pick<AnalyticsResults, (typeof DASHBOARD_QUERIES)[number]>;

/** Lines (or records) a sink holds, as the local run knows them. */
export interface SinkCount {
  sink: string;
  count: number;
  unit: string;
}

export interface Snapshot {
  generatedAt: string;
  results: DashboardResults;
  /** KPI texts, formatted once here so the page and the tests read the same figures. */
  kpis: Record<string, { label: string; value: string; note?: string }>;
  freshness: { newestLineAgeSeconds: number | null; mergeLagSeconds: number | null };
  sinks: SinkCount[];
  /** Pipeline health as label and formatted value. */
  health: Array<{ label: string; value: string }>;
}

export async function takeSnapshot(reader: AnalyticsReader, sinks: () => Promise<SinkCount[]> = async () => []): Promise<Snapshot> {
  const results = await reader.read(DASHBOARD_QUERIES);
  const [kpi] = results.kpis;
  const [basket] = results.basket;
  const [cancellations] = results.cancellationsOverall;
  const [health] = results.pipelineHealth;
  const newestLineAgeSeconds = secondsBetween(health?.newest_merged_at, health?.measured_at);
  const mergeLagSeconds = health?.staged_rows ? secondsBetween(health.oldest_staged_at, health.measured_at) : 0;
  const sinkCounts = await sinks();
  return {
    generatedAt: new Date().toISOString(),
    results,
    kpis: {
      netRevenue: { label: 'Net revenue', value: formatGbp(kpi?.net_revenue), note: 'sales, cancellations and adjustments' },
      sales: { label: 'Sales', value: formatGbp(kpi?.sales), note: `${formatGbp(kpi?.cancellations)} cancelled` },
      saleInvoices: { label: 'Sale invoices', value: formatCount(kpi?.sale_invoices), note: `${formatCount(kpi?.lines)} lines` },
      customers: { label: 'Customers', value: formatCount(kpi?.customers), note: `in ${formatCount(kpi?.countries)} countries` },
      basket: { label: 'Average basket', value: formatGbp(basket?.avg_value), note: `${basket?.avg_units ?? '–'} units, ${basket?.avg_lines ?? '–'} lines` },
      cancellationRate: { label: 'Cancellation rate', value: formatRate(cancellations?.invoice_rate), note: `of invoices; ${formatRate(cancellations?.unit_rate)} of units` },
      freshness: { label: 'Newest line landed', value: newestLineAgeSeconds === null ? 'no data' : `${formatAge(newestLineAgeSeconds)} ago`, note: `invoice date ${health?.newest_invoice_at ?? '–'}` },
    },
    freshness: { newestLineAgeSeconds, mergeLagSeconds },
    sinks: sinkCounts,
    health: [
      ...sinkCounts.map((s) => ({ label: s.sink, value: `${formatCount(s.count)} ${s.unit}` })),
      { label: 'Warehouse: lines merged', value: formatCount(health?.lines) },
      { label: 'Warehouse: rows staged, waiting for the merge', value: formatCount(health?.staged_rows) },
      { label: 'Merge lag (oldest staged row)', value: formatAge(mergeLagSeconds) },
      { label: 'Newest line landed', value: newestLineAgeSeconds === null ? 'no data' : `${formatAge(newestLineAgeSeconds)} ago (${health?.newest_merged_at} UTC)` },
      { label: 'Bad rows set aside by the stream processor', value: formatCount(health?.bad_rows) },
      { label: 'Rejected dump rows (batch loader)', value: formatCount(health?.rejected_dump_rows) },
    ],
  };
}
