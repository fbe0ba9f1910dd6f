/**
 * Exact money. Amounts are decimal strings on the wire and bigint thousandths in arithmetic:
 * unit prices have at most 3 decimals, so a line total (integer quantity x price) is exact at
 * scale 3 and a sum of any number of them never rounds. No JS float ever holds money.
 */

export const MONEY_SCALE = 3;
const SCALE_FACTOR = 10n ** BigInt(MONEY_SCALE);
const SCALE = 10 ** MONEY_SCALE;

/** A decimal with at most 3 fraction digits, optional sign, no exponent, no thousands separators. */
export const DECIMAL_PATTERN = /^[+-]?(\d+)(?:\.(\d{1,3}))?$/;
/** Same as DECIMAL_PATTERN but tolerates extra trailing zeros ("18.0000"), as CSV writers emit. */
const LENIENT_DECIMAL_PATTERN = /^[+-]?(\d+)(?:\.(\d{1,3})0*)?$/;

/** Parses a decimal string into thousandths. Returns undefined when the text is not an exact 3-decimal amount. */
export function parseMillis(text: string): bigint | undefined {
  const match = LENIENT_DECIMAL_PATTERN.exec(text);
  if (!match) return undefined;
  const whole = match[1] ?? '0';
  const fraction = Number((match[2] ?? '').padEnd(MONEY_SCALE, '0'));
  // Up to 12 whole digits the thousandths stay under 2^53, exact in a double: one BigInt instead of two and a product
  // (every line is parsed several times on its way; this halves what that costs).
  const magnitude = whole.length <= 12 ? BigInt(Number(whole) * SCALE + fraction) : BigInt(whole) * SCALE_FACTOR + BigInt(fraction);
  return text.charCodeAt(0) === 45 /* - */ ? -magnitude : magnitude;
}

/** Formats thousandths as the shortest exact decimal: 2550n -> "2.55", 18000n -> "18", -5n -> "-0.005". */
export function formatMillis(millis: bigint): string {
  const negative = millis < 0n;
  const magnitude = negative ? -millis : millis;
  const whole = magnitude / SCALE_FACTOR;
  const fraction = (magnitude % SCALE_FACTOR).toString().padStart(MONEY_SCALE, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** Formats thousandths with exactly 3 decimals, for fixed-width reports: 2550n -> "2.550". */
export function formatMillisFixed(millis: bigint): string {
  const negative = millis < 0n;
  const magnitude = negative ? -millis : millis;
  const whole = magnitude / SCALE_FACTOR;
  const fraction = (magnitude % SCALE_FACTOR).toString().padStart(MONEY_SCALE, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/** Canonical form of a decimal string ("18.0" -> "18", "+2.550" -> "2.55"); undefined if not exact at scale 3. */
export function canonicalDecimal(text: string): string | undefined {
  const millis = parseMillis(text);
  return millis === undefined ? undefined : formatMillis(millis);
}

/** quantity x unitPrice, exact. */
export function lineTotalMillis(quantity: number, unitPrice: string): bigint {
  const price = parseMillis(unitPrice);
  if (price === undefined) throw new RangeError(`not an exact decimal price: ${JSON.stringify(unitPrice)}`);
  if (!Number.isSafeInteger(quantity)) throw new RangeError(`not an integer quantity: ${quantity}`);
  return BigInt(quantity) * price;
}

/** Sums decimal strings exactly. */
export function sumDecimals(values: Iterable<string>): string {
  let total = 0n;
  for (const value of values) {
    const millis = parseMillis(value);
    if (millis === undefined) throw new RangeError(`not an exact decimal: ${JSON.stringify(value)}`);
    total += millis;
  }
  return formatMillis(total);
}
