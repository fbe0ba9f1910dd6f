/* The dashboard page: polls /api/snapshot and draws it with ECharts (served from the project, no internet).
   Money figures in the KPI cards come formatted from the server (exact); chart axes format for display only. */
'use strict';

const gbp = new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'GBP', maximumFractionDigits: 0 });
const gbpExact = new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'GBP', minimumFractionDigits: 2, maximumFractionDigits: 2 });
const compactGbp = new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'GBP', notation: 'compact', maximumFractionDigits: 1 });
const count = new Intl.NumberFormat('en-GB');
const palette = ['#2f6fde', '#e0663d', '#2a9d8f', '#c0392b', '#8e6bbf', '#e9b949', '#5c7080', '#48a868', '#b55d9b', '#7f8c8d'];

const charts = new Map();
const chartOf = (name) => {
  let chart = charts.get(name);
  if (!chart) {
    const element = document.querySelector(`[data-chart="${name}"]`);
    chart = echarts.init(element, null, { renderer: 'canvas' });
    charts.set(name, chart);
  }
  return chart;
};

function draw(name, points, option) {
  const element = document.querySelector(`[data-chart="${name}"]`);
  chartOf(name).setOption({ color: palette, animation: false, textStyle: { fontFamily: 'system-ui, sans-serif' }, ...option }, true);
  element.dataset.points = String(points);
}

const moneyAxis = { type: 'value', axisLabel: { formatter: (v) => compactGbp.format(v) } };
const moneyTooltip = { trigger: 'axis', valueFormatter: (v) => gbpExact.format(v) };
const shortLabel = (text, size = 28) => (text && text.length > size ? `${text.slice(0, size - 1)}…` : text || '');

function render(snapshot) {
  const r = snapshot.results;

  const kpis = document.getElementById('kpis');
  kpis.replaceChildren(
    ...Object.entries(snapshot.kpis).map(([key, kpi]) => {
      const card = document.createElement('div');
      card.className = 'kpi';
      card.dataset.kpi = key;
      card.innerHTML = '<div class="label"></div><div class="value"></div><div class="note"></div>';
      card.querySelector('.label').textContent = kpi.label;
      card.querySelector('.value').textContent = kpi.value;
      card.querySelector('.note').textContent = kpi.note || '';
      return card;
    }),
  );

  draw('revenueByDay', r.revenueByDay.length, {
    grid: { left: 70, right: 20, top: 30, bottom: 55 },
    legend: { top: 0 },
    tooltip: moneyTooltip,
    xAxis: { type: 'category', data: r.revenueByDay.map((d) => d.period_start) },
    yAxis: moneyAxis,
    dataZoom: [{ type: 'slider', height: 18, bottom: 6 }],
    // Points are drawn only when there are few days: a line needs two of them, so one day alone would show nothing.
    series: [
      { name: 'Net revenue', type: 'line', showSymbol: r.revenueByDay.length < 3, areaStyle: { opacity: 0.15 }, data: r.revenueByDay.map((d) => Number(d.net_revenue)) },
      { name: 'Cancellations', type: 'line', showSymbol: r.revenueByDay.length < 3, data: r.revenueByDay.map((d) => Number(d.cancellations)) },
    ],
  });

  draw('revenueByMonth', r.revenueByMonth.length, {
    grid: { left: 70, right: 20, top: 20, bottom: 30 },
    tooltip: moneyTooltip,
    xAxis: { type: 'category', data: r.revenueByMonth.map((m) => m.period_start.slice(0, 7)) },
    yAxis: moneyAxis,
    series: [{ name: 'Net revenue', type: 'bar', data: r.revenueByMonth.map((m) => Number(m.net_revenue)) }],
  });

  const countries = r.revenueByCountry.slice(0, 10).reverse();
  draw('countries', countries.length, {
    grid: { left: 120, right: 60, top: 10, bottom: 25 },
    tooltip: moneyTooltip,
    xAxis: moneyAxis,
    yAxis: { type: 'category', data: countries.map((c) => c.country) },
    series: [{ name: 'Net revenue', type: 'bar', data: countries.map((c) => Number(c.net_revenue)), label: { show: true, position: 'right', formatter: (p) => compactGbp.format(p.value) } }],
  });

  const products = r.topProductsByRevenue.slice().reverse();
  draw('topProducts', products.length, {
    grid: { left: 230, right: 60, top: 10, bottom: 25 },
    tooltip: moneyTooltip,
    xAxis: moneyAxis,
    yAxis: { type: 'category', data: products.map((p) => shortLabel(p.description || p.stock_code, 34)) },
    series: [{ name: 'Net revenue', type: 'bar', data: products.map((p) => Number(p.net_revenue)), label: { show: true, position: 'right', formatter: (p) => compactGbp.format(p.value) } }],
  });

  const byQuantity = r.topProductsByQuantity.slice().reverse();
  draw('topProductsByQuantity', byQuantity.length, {
    grid: { left: 230, right: 60, top: 10, bottom: 25 },
    tooltip: { trigger: 'axis', valueFormatter: (v) => `${count.format(v)} units` },
    xAxis: { type: 'value', axisLabel: { formatter: (v) => count.format(v) } },
    yAxis: { type: 'category', data: byQuantity.map((p) => shortLabel(p.description || p.stock_code, 34)) },
    series: [{ name: 'Net quantity', type: 'bar', color: palette[2], data: byQuantity.map((p) => p.net_quantity), label: { show: true, position: 'right', formatter: (p) => count.format(p.value) } }],
  });

  draw('customers', r.monthlyCustomers.length, {
    grid: { left: 55, right: 20, top: 30, bottom: 30 },
    legend: { top: 0 },
    tooltip: { trigger: 'axis', valueFormatter: (v) => count.format(v) },
    xAxis: { type: 'category', data: r.monthlyCustomers.map((m) => m.month) },
    yAxis: { type: 'value', axisLabel: { formatter: (v) => count.format(v) } },
    series: [
      { name: 'New', type: 'bar', stack: 'active', data: r.monthlyCustomers.map((m) => m.new_customers) },
      { name: 'Returning', type: 'bar', stack: 'active', data: r.monthlyCustomers.map((m) => m.returning_customers) },
    ],
  });

  const cohorts = [...new Set(r.cohortRetention.map((c) => c.cohort))];
  const maxOffset = Math.max(0, ...r.cohortRetention.map((c) => c.month_offset));
  const offsets = Array.from({ length: maxOffset + 1 }, (_, k) => String(k));
  draw('cohorts', r.cohortRetention.length, {
    grid: { left: 70, right: 20, top: 10, bottom: 60 },
    tooltip: { formatter: (p) => `cohort ${cohorts[p.value[1]]}, month +${p.value[0]}: ${(p.value[2] * 100).toFixed(1)} % (${count.format(p.data.retained)} of ${count.format(p.data.size)})` },
    xAxis: { type: 'category', data: offsets, name: 'months after first sale', nameLocation: 'middle', nameGap: 24, splitArea: { show: true } },
    yAxis: { type: 'category', data: cohorts, inverse: true, splitArea: { show: true } },
    visualMap: { min: 0, max: 0.5, calculable: false, orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 120, show: false, inRange: { color: ['#f0f4fb', '#2f6fde'] } },
    series: [
      {
        type: 'heatmap',
        data: r.cohortRetention.map((c) => ({ value: [c.month_offset, cohorts.indexOf(c.cohort), Number(c.retention)], retained: c.retained_customers, size: c.cohort_customers })),
        label: { show: true, fontSize: 10, formatter: (p) => `${Math.round(p.value[2] * 100)}` },
      },
    ],
  });

  const segments = r.rfmSegments.slice().reverse();
  draw('rfm', segments.length, {
    grid: { left: 130, right: 50, top: 10, bottom: 25 },
    tooltip: { trigger: 'axis', formatter: (ps) => { const s = segments[ps[0].dataIndex]; return `${s.segment}: ${count.format(s.customers)} customers<br/>recency ${s.avg_recency_days} d, ${s.avg_frequency} invoices<br/>${gbp.format(Number(s.monetary))} net revenue`; } },
    xAxis: { type: 'value', axisLabel: { formatter: (v) => count.format(v) } },
    yAxis: { type: 'category', data: segments.map((s) => s.segment) },
    series: [{ name: 'Customers', type: 'bar', color: palette[4], data: segments.map((s) => s.customers), label: { show: true, position: 'right', formatter: (p) => count.format(p.value) } }],
  });

  const quality = r.dataQualityByDay;
  const issue = (name, key) => ({ name, type: 'bar', stack: 'issues', data: quality.map((d) => d[key]) });
  draw('quality', quality.length, {
    grid: { left: 55, right: 20, top: 50, bottom: 30 },
    legend: { top: 0, type: 'scroll' },
    tooltip: { trigger: 'axis', valueFormatter: (v) => count.format(v) },
    xAxis: { type: 'category', data: quality.map((d) => d.day) },
    yAxis: { type: 'value', axisLabel: { formatter: (v) => count.format(v) } },
    series: [
      issue('No customer', 'without_customer'),
      issue('No description', 'without_description'),
      issue('Zero price', 'zero_price'),
      issue('Non-product code', 'non_product'),
      issue('Bad rows', 'bad_rows'),
      issue('Rejected dump rows', 'rejected_dump_rows'),
    ],
  });

  const body = document.querySelector('#health tbody');
  body.replaceChildren(
    ...snapshot.health.map((row) => {
      const tr = document.createElement('tr');
      const label = document.createElement('th');
      label.textContent = row.label;
      const value = document.createElement('td');
      value.className = 'number';
      value.textContent = row.value;
      tr.append(label, value);
      return tr;
    }),
  );
}

async function poll() {
  const status = document.getElementById('status');
  let wait = 5000;
  try {
    const response = await fetch('/api/snapshot', { cache: 'no-store' });
    const body = await response.json();
    wait = body.refreshMs || wait;
    if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
    render(body);
    status.className = '';
    status.textContent = `updated ${new Date(body.generatedAt).toLocaleTimeString('en-GB')} · refreshes every ${Math.round(wait / 1000)} s`;
    document.body.dataset.updated = body.generatedAt;
  } catch (error) {
    status.className = 'error';
    status.textContent = `could not refresh: ${error.message}`;
  }
  setTimeout(poll, wait);
}

window.addEventListener('resize', () => charts.forEach((chart) => chart.resize()));
poll();
