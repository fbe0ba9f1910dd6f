import { formatMillis, parseMillis } from '../src/money';
import { INVOICE_NO_PATTERN, normaliseInvoice, type Invoice } from '../src/schemas';
import { DYNAMODB_LIMITS, FIREHOSE_LIMITS, TEXT_MAX_BYTES, WAREHOUSE_TYPES, maxMillis, utf8Bytes } from '../src/sink-limits';
import { KEY_NAME_SHOWN, parseInvoicesBody } from '../src/validation';

const invoice = (overrides: Partial<Invoice> = {}, line: Partial<Invoice['lines'][number]> = {}): Invoice => ({
  invoiceNo: '536365',
  invoiceDate: '2010-12-01T08:26:00',
  customerId: '17850',
  country: 'United Kingdom',
  storeId: 'store-001',
  lines: [{ stockCode: '85123A', description: 'WHITE HANGING HEART T-LIGHT HOLDER', quantity: 6, unitPrice: '2.55', ...line }],
  ...overrides,
});

const problems = (body: unknown) => {
  const parsed = parseInvoicesBody(body);
  return parsed.ok ? [] : parsed.problems;
};
const paths = (body: unknown) => problems(body).map((problem) => problem.path);

/** Significant digits of a decimal string, as DynamoDB counts them for its 38-digit limit. */
const significantDigits = (decimal: string) => decimal.replace(/[-+.]/g, '').replace(/^0+/, '').length;

describe('the schema accepts only what every sink stores', () => {
  it.each([
    ['a 40-digit price (DynamoDB keeps 38 digits)', { unitPrice: '1'.repeat(40) }, 'lines[0].unitPrice'],
    ['a million-digit price of leading zeros (larger than a Firehose record)', { unitPrice: `${'0'.repeat(1_000_000)}1` }, 'lines[0].unitPrice'],
    ['a price over NUMERIC(18,3)', { unitPrice: '1000000000000000' }, 'lines[0].unitPrice'],
    ['a quantity over INTEGER', { quantity: 2 ** 31 }, 'lines[0].quantity'],
    ['a quantity under INTEGER', { quantity: -(2 ** 31) - 1 }, 'lines[0].quantity'],
    ['a line total over NUMERIC(20,3)', { quantity: 2_000_000_000, unitPrice: '999999999999999' }, 'lines[0].quantity'],
    ['a NUL in a description', { description: 'A\u0000B' }, 'lines[0].description'],
    ['a lone high surrogate', { stockCode: 'A\uD800' }, 'lines[0].stockCode'],
    ['a lone low surrogate', { description: '\uDC00x' }, 'lines[0].description'],
    ['a description over its VARCHAR bytes (3-byte characters)', { description: '€'.repeat(700) }, 'lines[0].description'],
    ['a stock code over its bound', { stockCode: 'X'.repeat(TEXT_MAX_BYTES.stockCode + 1) }, 'lines[0].stockCode'],
    ['a negative price on a sale', { unitPrice: '-1.5' }, 'lines[0].unitPrice'],
  ])('refuses %s, at its field path', (_name, line, path) => {
    expect(paths(invoice({}, line as Partial<Invoice['lines'][number]>))).toEqual([path]);
  });

  it('refuses a NUL in the country and a negative price on a cancellation', () => {
    expect(paths(invoice({ country: 'United\u0000Kingdom' }))).toEqual(['country']);
    expect(paths(invoice({ invoiceNo: 'C536379' }, { quantity: -1, unitPrice: '-2.55' }))).toEqual(['lines[0].unitPrice']);
  });

  it('names the line at fault when a quantity overflows the line total', () => {
    const body = { invoices: [invoice(), invoice({ invoiceNo: '536366', lines: [invoice().lines[0]!, { stockCode: 'B', description: null, quantity: 2_147_483_647, unitPrice: '100000000000' }] })] };
    expect(problems(body)).toEqual([{ path: 'invoices[1].lines[1].quantity', message: expect.stringMatching(/NUMERIC\(20,3\)/) }]);
  });

  it('keeps what the dataset needs: adjustments with a negative price, cancellations with a negative quantity, sales with a negative quantity, £ and emoji', () => {
    expect(problems(invoice({ invoiceNo: 'A563186', customerId: null }, { stockCode: 'B', description: 'Adjust bad debt', quantity: 1, unitPrice: '-11062.06' }))).toEqual([]);
    expect(problems(invoice({ invoiceNo: 'C536379' }, { quantity: -1, unitPrice: '27.5' }))).toEqual([]);
    expect(problems(invoice({}, { quantity: -9360, unitPrice: '0' }))).toEqual([]);
    expect(problems(invoice({}, { description: ' £1 "OFF", 😀 ', unitPrice: '-0' }))).toEqual([]);
  });

  it('accepts the largest values every sink takes, and they fit every sink', () => {
    const price = `${'9'.repeat(15)}.999`;
    const biggest = invoice({ country: 'é'.repeat(TEXT_MAX_BYTES.country / 2) }, {
      stockCode: 'X'.repeat(TEXT_MAX_BYTES.stockCode),
      description: '€'.repeat(Math.floor(TEXT_MAX_BYTES.description / 3)),
      quantity: 100,
      unitPrice: price,
    });
    expect(problems(biggest)).toEqual([]);
    const [line] = normaliseInvoice(biggest);
    expect(parseMillis(line!.lineTotal)! <= maxMillis(WAREHOUSE_TYPES.lineTotal)).toBe(true);
    // The header total of the largest invoice stays within DynamoDB's 38 digits.
    expect(significantDigits(formatMillis(maxMillis(WAREHOUSE_TYPES.lineTotal) * 5_000n))).toBeLessThanOrEqual(DYNAMODB_LIMITS.numberDigits);
    // A stored line (the warehouse row holds the same values), even with every character escaped in JSON, fits one Firehose record.
    expect(utf8Bytes(JSON.stringify(line)) * 6).toBeLessThan(FIREHOSE_LIMITS.recordBytes);
  });

  it('text bounds never exceed their VARCHAR sizes (packages/warehouse checks its DDL has these types)', () => {
    for (const [field, bytes] of Object.entries(TEXT_MAX_BYTES)) {
      expect(bytes).toBeLessThanOrEqual(WAREHOUSE_TYPES[field as keyof typeof TEXT_MAX_BYTES].varcharBytes);
    }
    expect(INVOICE_NO_PATTERN.source).toMatch(/\{1,(\d+)\}/);
    expect(Number(/\{1,(\d+)\}/.exec(INVOICE_NO_PATTERN.source)![1]) + 1).toBeLessThanOrEqual(WAREHOUSE_TYPES.invoiceNo.varcharBytes);
  });
});

describe('400 replies never echo what the caller sent at length', () => {
  it('cuts unknown key names and lists at most a few', () => {
    const huge = 'k'.repeat(4 * 1024 * 1024);
    const body: Record<string, unknown> = { ...invoice(), [huge]: 1 };
    for (let index = 0; index < 50; index += 1) body[`extra${index}`] = index;
    const found = problems(body);
    expect(found).toHaveLength(1);
    expect(found[0]?.path).toBe('(body)');
    expect(found[0]?.message.length).toBeLessThan(400);
    expect(found[0]?.message).toContain(`"${'k'.repeat(KEY_NAME_SHOWN)}…"`);
    expect(found[0]?.message).toMatch(/and 46 more/);
  });
});
