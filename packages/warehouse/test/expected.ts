/** Independent restatements of the analytics definitions (README, "Analytics"), in plain TypeScript over rows. */
import { parseMillis } from '@invoice-pipeline/transactions';
import type { WarehouseRow } from '../src';

export const millis = (text: string): bigint => {
  const value = parseMillis(text);
  if (value === undefined) throw new Error(`not money: ${text}`);
  return value;
};

/** Stock codes that are not goods: postage, carriage, manual, discount, samples, fees, commission, bad debt, vouchers. */
const NON_PRODUCT = new Set(['POST', 'DOT', 'C2', 'M', 'D', 'S', 'BANK CHARGES', 'AMAZONFEE', 'CRUK', 'B']);
export const isProductCode = (code: string) => !NON_PRODUCT.has(code.toUpperCase()) && !code.startsWith('gift_0001_');

export function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

export const monthOf = (l: WarehouseRow) => l.invoice_date.slice(0, 7);

/** The Monday of the line's week, YYYY-MM-DD. */
export function weekOf(l: WarehouseRow): string {
  const date = new Date(`${l.invoice_date.slice(0, 10)}T00:00:00Z`);
  const sinceMonday = (date.getUTCDay() + 6) % 7;
  return new Date(date.getTime() - sinceMonday * 86_400_000).toISOString().slice(0, 10);
}

/** The latest non-null description of a stock code's lines (latest by date, invoice number, line number). */
export function latestDescription(lines: readonly WarehouseRow[]): string | null {
  const described = lines.filter((l) => l.description !== null);
  const key = (l: WarehouseRow) => [l.invoice_date, l.invoice_no, String(l.line_no).padStart(6, '0')].join(' ');
  return described.sort((a, b) => (key(a) < key(b) ? 1 : -1))[0]?.description ?? null;
}

/** num / den rounded half away from zero to `places` decimals, as the engine writes it ("0.1250"). */
export function ratio(num: bigint, den: bigint, places: number): string {
  const scale = 10n ** BigInt(places);
  const negative = num < 0n !== den < 0n;
  const [n, d] = [num < 0n ? -num : num, den < 0n ? -den : den];
  const scaled = (n * scale * 2n + d) / (2n * d);
  const whole = scaled / scale;
  const fraction = (scaled % scale).toString().padStart(places, '0');
  return `${negative && scaled !== 0n ? '-' : ''}${whole}${places ? `.${fraction}` : ''}`;
}

/** SQL NTILE(n) over an ordering: the first (count mod n) tiles hold one more. */
export function ntile<T>(items: readonly T[], n: number, order: (a: T, b: T) => number): Map<T, number> {
  const sorted = [...items].sort(order);
  const size = Math.floor(sorted.length / n);
  const larger = sorted.length % n;
  const tiles = new Map<T, number>();
  let position = 0;
  for (let tile = 1; tile <= n; tile += 1) {
    const count = size + (tile <= larger ? 1 : 0);
    for (let i = 0; i < count; i += 1) tiles.set(sorted[position++] as T, tile);
  }
  return tiles;
}

/** The named RFM segments on the recency/frequency grid. */
export function rfmSegment(r: number, f: number): string {
  if (r === 5 && f >= 4) return 'Champions';
  if (r >= 3 && f >= 4) return 'Loyal customers';
  if (r >= 4 && f >= 2) return 'Potential loyalists';
  if (r === 5) return 'New customers';
  if (r === 4) return 'Promising';
  if (r === 3) return f === 3 ? 'Need attention' : 'About to sleep';
  if (f === 5) return 'Cannot lose them';
  return f >= 3 ? 'At risk' : 'Hibernating';
}
