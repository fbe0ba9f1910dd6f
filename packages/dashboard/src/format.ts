/**
 * Number formats analysts read: pounds sterling with thousands separators, rounded to the penny from the exact
 * decimal text (never through a float), integers with separators, rates as percentages, ages in words.
 */
const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

const groupThousands = (digits: string) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** Rounds a decimal text half away from zero to `places` decimals, exactly. */
export function roundDecimal(text: string, places: number): { negative: boolean; whole: string; fraction: string } {
  const match = DECIMAL.exec(text.trim());
  if (!match) throw new RangeError(`not a decimal: ${JSON.stringify(text)}`);
  const [, sign, whole = '0', fraction = ''] = match;
  const scale = 10n ** BigInt(places);
  const digits = BigInt(whole + fraction.padEnd(places + 1, '0').slice(0, places + 1));
  const rounded = (digits + 5n) / 10n;
  const magnitude = rounded.toString().padStart(places + 1, '0');
  return {
    negative: sign === '-' && rounded !== 0n,
    whole: (rounded / scale).toString(),
    fraction: places ? magnitude.slice(-places) : '',
  };
}

/** "9747747.934" -> "£9,747,747.93"; "-11062.06" -> "-£11,062.06". */
export function formatGbp(amount: string | null | undefined, places = 2): string {
  if (amount === null || amount === undefined) return '–';
  const { negative, whole, fraction } = roundDecimal(amount, places);
  return `${negative ? '-' : ''}£${groupThousands(whole)}${places ? `.${fraction}` : ''}`;
}

/** 541909 -> "541,909". */
export function formatCount(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : groupThousands(String(Math.trunc(value))).replace(/^(-?),/, '$1');
}

/** "0.0213" -> "2.13 %". */
export function formatRate(rate: string | null | undefined, places = 2): string {
  if (rate === null || rate === undefined) return '–';
  const match = DECIMAL.exec(rate.trim());
  if (!match) throw new RangeError(`not a rate: ${JSON.stringify(rate)}`);
  const [, sign, whole = '0', fraction = ''] = match;
  const percent = `${sign}${BigInt(whole + fraction.padEnd(2, '0').slice(0, 2))}.${fraction.slice(2) || '0'}`;
  const { negative, whole: w, fraction: f } = roundDecimal(percent, places);
  return `${negative ? '-' : ''}${groupThousands(w)}${places ? `.${f}` : ''} %`;
}

/** Seconds as "42 s", "3 min 5 s", "2 h 4 min", "3 d 2 h". */
export function formatAge(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3_600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3_600)} h ${Math.floor((s % 3_600) / 60)} min`;
  return `${formatCount(Math.floor(s / 86_400))} d ${Math.floor((s % 86_400) / 3_600)} h`;
}

export interface Column {
  title: string;
  /** Numbers align right. */
  align?: 'left' | 'right';
}

/** An aligned text table: a header, a rule, the rows. */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max(c.title.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    columns
      .map((c, i) => (c.align === 'right' ? (cells[i] ?? '').padStart(widths[i] ?? 0) : (cells[i] ?? '').padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.title)), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** One CSV document (RFC 4180): every field quoted when it needs to be. */
export function toCsv(rows: readonly Record<string, unknown>[]): string {
  const first = rows[0];
  if (!first) return '';
  const columns = Object.keys(first);
  const cell = (value: unknown) => {
    const text = value === null || value === undefined ? '' : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [columns.join(','), ...rows.map((row) => columns.map((c) => cell(row[c])).join(','))].join('\r\n') + '\r\n';
}
