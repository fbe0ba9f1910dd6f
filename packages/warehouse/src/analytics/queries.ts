import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderSql, type AnalyticsDialect } from './dialect';
import { ANALYTICS_SCHEMA_TEMPLATE } from '../analytics-layer';

/** Where the analytics SQL lives: one file per query, readable and runnable by hand (after rendering). */
export const ANALYTICS_SQL_DIR = resolve(__dirname, '../../sql/analytics');

/** Money and rates are exact decimal text (the NUMERIC's own rendering); counts are integers. */
export type Decimal = string;

export interface KpiRow {
  lines: number;
  invoices: number;
  sale_invoices: number;
  cancellation_invoices: number;
  adjustment_invoices: number;
  customers: number;
  countries: number;
  net_revenue: Decimal;
  sales: Decimal;
  cancellations: Decimal;
  adjustments: Decimal;
  first_invoice_at: string | null;
  last_invoice_at: string | null;
}

export interface RevenuePeriodRow {
  period_start: string;
  net_revenue: Decimal;
  sales: Decimal;
  cancellations: Decimal;
  adjustments: Decimal;
  sale_invoices: number;
  lines: number;
}

export interface RevenueCountryRow {
  country: string;
  net_revenue: Decimal;
  sales: Decimal;
  cancellations: Decimal;
  adjustments: Decimal;
  sale_invoices: number;
  customers: number;
}

export interface TopProductRow {
  stock_code: string;
  description: string | null;
  code_kind: string;
  net_revenue: Decimal;
  net_quantity: number;
  sold_quantity: number;
  sale_invoices: number;
}

export interface BasketRow {
  sale_invoices: number;
  sales: Decimal;
  avg_value: Decimal | null;
  avg_units: Decimal | null;
  avg_lines: Decimal | null;
}

export interface CancellationRow {
  grouped_by: string;
  label: string | null;
  sale_invoices: number;
  cancellation_invoices: number;
  sold_units: number | null;
  cancelled_units: number | null;
  cancelled_value: Decimal;
  invoice_rate: Decimal | null;
  unit_rate: Decimal | null;
}

export interface MonthlyCustomersRow {
  month: string;
  active_customers: number;
  new_customers: number;
  returning_customers: number;
}

export interface CohortRow {
  cohort: string;
  month_offset: number;
  cohort_customers: number;
  retained_customers: number;
  retention: Decimal;
}

export interface RfmSegmentRow {
  segment: string;
  customers: number;
  avg_recency_days: Decimal;
  avg_frequency: Decimal;
  monetary: Decimal;
}

export interface RfmCustomerRow {
  customer_id: string;
  recency_days: number;
  frequency: number;
  monetary: Decimal;
  r_score: number;
  f_score: number;
  m_score: number;
  rfm_code: string;
  segment: string;
}

export interface DataQualityRow {
  day: string;
  lines: number;
  without_customer: number;
  without_description: number;
  zero_price: number;
  non_product: number;
  bad_rows: number;
  rejected_dump_rows: number;
}

export interface PipelineHealthRow {
  lines: number;
  staged_rows: number;
  oldest_staged_at: string | null;
  newest_merged_at: string | null;
  newest_invoice_at: string | null;
  bad_rows: number;
  rejected_dump_rows: number;
  measured_at: string;
}

interface QueryDefinition<Row> {
  file: string;
  title: string;
  params?: Record<string, string>;
  /** Type marker only. */
  row?: Row;
}

const define = <Row>(definition: QueryDefinition<Row>) => definition;

const PRODUCTS_ONLY = 'p.is_product';
const EVERY_CODE = '1 = 1';
const BY_NET_REVENUE = 'SUM(f.line_total)';
const BY_NET_QUANTITY = 'SUM(f.sold_quantity - f.cancelled_quantity)';
const NO_LABEL = 'CAST(NULL AS VARCHAR(2000))';

/** Every analytics query, by name: its SQL file and the parameters rendered into it. */
export const ANALYTICS_QUERIES = {
  kpis: define<KpiRow>({ file: 'kpis', title: 'Headline figures' }),
  revenueByDay: define<RevenuePeriodRow>({ file: 'revenue_by_period', title: 'Revenue by day', params: { period: 'date_key' } }),
  revenueByWeek: define<RevenuePeriodRow>({ file: 'revenue_by_period', title: 'Revenue by week', params: { period: 'week_start' } }),
  revenueByMonth: define<RevenuePeriodRow>({ file: 'revenue_by_period', title: 'Revenue by month', params: { period: 'month_start' } }),
  revenueByCountry: define<RevenueCountryRow>({ file: 'revenue_by_country', title: 'Revenue by country' }),
  topProductsByRevenue: define<TopProductRow>({ file: 'top_products', title: 'Top products by net revenue', params: { scope: PRODUCTS_ONLY, rank_by: BY_NET_REVENUE } }),
  topProductsByQuantity: define<TopProductRow>({ file: 'top_products', title: 'Top products by net quantity', params: { scope: PRODUCTS_ONLY, rank_by: BY_NET_QUANTITY } }),
  topCodesByRevenue: define<TopProductRow>({ file: 'top_products', title: 'Top stock codes by net revenue (non-product codes included)', params: { scope: EVERY_CODE, rank_by: BY_NET_REVENUE } }),
  topCodesByQuantity: define<TopProductRow>({ file: 'top_products', title: 'Top stock codes by net quantity (non-product codes included)', params: { scope: EVERY_CODE, rank_by: BY_NET_QUANTITY } }),
  basket: define<BasketRow>({ file: 'basket', title: 'Average sale basket' }),
  cancellationsOverall: define<CancellationRow>({
    file: 'cancellations',
    title: 'Cancellation rate overall',
    params: { grain: 'overall', dimension: "'all'", label: NO_LABEL, scope: EVERY_CODE, group_and_order: '' },
  }),
  cancellationsByCountry: define<CancellationRow>({
    file: 'cancellations',
    title: 'Cancellation rate by country',
    params: { grain: 'by country', dimension: 'f.country', label: NO_LABEL, scope: EVERY_CODE, group_and_order: 'GROUP BY f.country\nORDER BY COUNT(DISTINCT f.sale_invoice_no) DESC, f.country' },
  }),
  cancellationsByProduct: define<CancellationRow>({
    file: 'cancellations',
    title: 'Cancellation rate by product (most cancelled units)',
    params: { grain: 'by product', dimension: 'f.stock_code', label: 'MAX(p.description)', scope: PRODUCTS_ONLY, group_and_order: 'GROUP BY f.stock_code\nORDER BY SUM(f.cancelled_quantity) DESC, f.stock_code\nLIMIT 15' },
  }),
  monthlyCustomers: define<MonthlyCustomersRow>({ file: 'monthly_customers', title: 'Monthly active customers, new and returning' }),
  cohortRetention: define<CohortRow>({ file: 'cohort_retention', title: 'Monthly cohort retention' }),
  rfmSegments: define<RfmSegmentRow>({ file: 'rfm_segments', title: 'RFM segments' }),
  rfmCustomers: define<RfmCustomerRow>({ file: 'rfm_customers', title: 'RFM scores per customer' }),
  dataQualityByDay: define<DataQualityRow>({ file: 'data_quality_by_day', title: 'Data quality by day' }),
  pipelineHealth: define<PipelineHealthRow>({ file: 'pipeline_health', title: 'Pipeline health' }),
} as const;

export type AnalyticsQueryName = keyof typeof ANALYTICS_QUERIES;
export type AnalyticsRow<Name extends AnalyticsQueryName> = NonNullable<(typeof ANALYTICS_QUERIES)[Name]['row']>;
export type AnalyticsResults = { [Name in AnalyticsQueryName]: AnalyticsRow<Name>[] };

const templates = new Map<string, string>();

/** The text of sql/analytics/<name>.sql (read once). */
export function analyticsTemplate(file: string): string {
  let text = templates.get(file);
  if (text === undefined) {
    text = readFileSync(resolve(ANALYTICS_SQL_DIR, `${file}.sql`), 'utf8');
    templates.set(file, text);
  }
  return text;
}

/** The SQL of one query, rendered for one engine. */
export function analyticsSql(name: AnalyticsQueryName, dialect: AnalyticsDialect): string {
  const query: QueryDefinition<unknown> = ANALYTICS_QUERIES[name];
  return renderSql(analyticsTemplate(query.file), dialect, query.params);
}

/** The scripts that create the analytics tables and view, and rebuild the dimensional layer. */
export const ANALYTICS_SCRIPTS = { schema: 'schema', rebuild: 'rebuild' } as const;

export function analyticsScript(script: keyof typeof ANALYTICS_SCRIPTS, dialect: AnalyticsDialect): string {
  // The schema is a migration too, so it lives in TypeScript (a Lambda bundle carries it); rebuild.sql is read from disk.
  const template = script === 'schema' ? ANALYTICS_SCHEMA_TEMPLATE : analyticsTemplate(ANALYTICS_SCRIPTS[script]);
  return renderSql(template, dialect);
}
