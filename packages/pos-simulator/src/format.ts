import type { Reason, ReplaySummary } from './replay';

const number = (value: number) => value.toLocaleString('en-GB');
const rate = (count: number, seconds: number) => number(Math.round(count / Math.max(seconds, 0.001)));

function reasonLines(reasons: Reason[]): string[] {
  return reasons.slice(0, 10).map((reason) => `    ${number(reason.invoices)} invoices (${number(reason.lines)} lines): ${reason.reason}  e.g. ${reason.examples.join(', ')}`);
}

/** The final report of a replay, for people. */
export function formatSummary(summary: ReplaySummary): string {
  const { accepted, rejected, failed, totals } = summary;
  const settings = [`mode ${summary.mode}`, `${summary.stores} stores`, `batch ${summary.batchSize}`, `concurrency ${summary.concurrency}`];
  if (summary.speed) settings.push(`speed x${summary.speed}`);
  const lines = [
    `source      ${summary.source} (${settings.join(', ')})`,
    `rows read   ${number(summary.rows)} (${number(summary.badRows)} bad source rows, not sent)`,
    `sent        ${number(summary.sent.invoices)} invoices, ${number(summary.sent.lines)} lines, in ${number(summary.requests)} requests (${number(summary.retried)} retries)`,
    `accepted    ${number(accepted.invoices)} invoices, ${number(accepted.lines)} lines, revenue ${totals.revenue}`,
    `rejected    ${number(rejected.invoices)} invoices, ${number(rejected.lines)} lines`,
    ...reasonLines(rejected.reasons),
    `failed      ${number(failed.invoices)} invoices, ${number(failed.lines)} lines (no answer after retries)`,
    ...reasonLines(failed.reasons),
  ];
  for (const bad of summary.badRowSamples.slice(0, 5)) lines.push(`bad row     ${bad.file}:${bad.line} ${bad.field}: ${bad.reason}`);
  lines.push(
    summary.unaccounted === 0
      ? `reconciled  yes: rows read = accepted + rejected + failed lines + bad rows`
      : `reconciled  NO: ${number(summary.unaccounted)} rows unaccounted for`,
  );
  if (summary.mode === 'one-by-one') {
    lines.push('note        one-by-one: each row was sent as its own invoice, numbered <invoiceNo><4-digit line> (536365 line 3 -> 5363650003)');
  }
  if (summary.stopped) lines.push(`stopped     ${summary.stopped}`);
  lines.push(
    `took        ${summary.seconds.toFixed(1)} s (${rate(accepted.invoices, summary.seconds)} invoices/s, ${rate(accepted.lines, summary.seconds)} lines/s accepted)`,
  );
  return lines.join('\n');
}
