import type { Invoice } from '@invoice-pipeline/transactions';
import fc from 'fast-check';

/**
 * Request bodies for fuzzing POST /invoices: valid invoices (generated and real, of the stores store-001..003),
 * values at and past every sink's bound, broken structures, any JSON, any text, truncated JSON.
 */

export const digits = (min: number, max: number) => fc.integer({ min, max }).map(String);
export const localDateTime = fc
  .date({ min: new Date('2009-01-01T00:00:00Z'), max: new Date('2012-12-31T23:59:59Z'), noInvalidDate: true })
  .map((date) => date.toISOString().slice(0, 19));
const decimal = (millis: bigint) => {
  const sign = millis < 0n ? '-' : '';
  const magnitude = millis < 0n ? -millis : millis;
  return `${sign}${magnitude / 1000n}.${(magnitude % 1000n).toString().padStart(3, '0')}`;
};
// Mostly ordinary prices; sometimes at or past NUMERIC(18,3), DynamoDB's 38 digits, or padded with zeros.
export const money = fc.oneof(
  { weight: 8, arbitrary: fc.bigInt({ min: -10_000_000n, max: 10_000_000n }).map(decimal) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(10n ** 19n), max: 10n ** 19n }).map(decimal) },
  { weight: 1, arbitrary: fc.tuple(fc.nat({ max: 60 }), fc.stringMatching(/^[1-9]\d{0,3}$/)).map(([zeros, digits]) => `${'0'.repeat(zeros)}${digits}`) },
);
export const quantity = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: -1_000, max: 1_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: -(2 ** 31) - 2, max: 2 ** 31 + 1 }) },
  { weight: 1, arbitrary: fc.constantFrom(2 ** 31 - 1, -(2 ** 31), 2 ** 31, Number.MAX_SAFE_INTEGER, 1e300) },
);
// Any UTF-16 (NUL, lone surrogates, emoji), sometimes long.
export const text = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('a', '€', '😀', '\u0000', '\uD800', '\uDC00'), minLength: 1, maxLength: 900 }) },
);
export const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
export const storeId = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('store-001', 'store-002', 'store-003') }, { weight: 1, arbitrary: id });

export const line = fc.record(
  {
    stockCode: text,
    description: fc.option(fc.string({ unit: 'binary', maxLength: 40 }), { nil: null }),
    quantity,
    unitPrice: money,
    invoiceDate: localDateTime,
  },
  { requiredKeys: ['stockCode', 'description', 'quantity', 'unitPrice'] },
);

export const generatedInvoice = fc.record({
  invoiceNo: fc.tuple(fc.constantFrom('', 'C', 'A'), digits(1, 99_999_999)).map(([prefix, number]) => prefix + number),
  invoiceDate: localDateTime,
  customerId: fc.option(id, { nil: null }),
  country: text,
  storeId,
  lines: fc.array(line, { minLength: 1, maxLength: 6 }),
});

/** Real invoices the generators draw from (filled by each test file's beforeAll). */
export const realInvoices: Invoice[] = [];
const realInvoice = fc
  .tuple(fc.nat(), fc.constantFrom('store-001', 'store-002'))
  .map(([index, store]) => ({ ...(realInvoices[index % realInvoices.length] as Invoice), storeId: store }));
export const invoice = fc.oneof(generatedInvoice, realInvoice);

/** Breaks a value at a random place: a field replaced by any JSON value, or removed, or an unknown one added. */
export function mutated(value: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.tuple(value, fc.nat(), fc.jsonValue(), fc.constantFrom('replace', 'delete', 'add')).map(([original, pick, replacement, how]) => {
    const copy = structuredClone(original);
    const containers: Array<Record<string, unknown> | unknown[]> = [];
    const walk = (node: unknown) => {
      if (typeof node === 'object' && node !== null) {
        containers.push(node as Record<string, unknown>);
        Object.values(node).forEach(walk);
      }
    };
    walk(copy);
    const target = containers[pick % containers.length] as Record<string, unknown>;
    const keys = Object.keys(target);
    const key = keys.length ? (keys[pick % keys.length] as string) : 'extra';
    if (how === 'delete') delete target[key];
    else if (how === 'add') target[`extra${pick}`] = replacement;
    else target[key] = replacement;
    return copy;
  });
}

export const batch = fc.array(invoice, { minLength: 1, maxLength: 8 }).map((invoices) => ({ invoices }));

export const body: fc.Arbitrary<string> = fc.oneof(
  invoice.map((value) => JSON.stringify(value)),
  batch.map((value) => JSON.stringify(value)),
  mutated(invoice).map((value) => JSON.stringify(value)),
  mutated(batch).map((value) => JSON.stringify(value)),
  fc.json(),
  fc.string({ unit: 'binary', maxLength: 200 }),
  batch.map((value) => JSON.stringify(value).slice(0, -3)),
);

export const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/problem+json', 'text/plain', undefined) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 60 }) },
);

