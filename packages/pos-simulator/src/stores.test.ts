import { oneByOneInvoiceNo, parseOneByOneInvoiceNo } from './one-by-one';
import { storeIdFor } from './stores';

describe('storeIdFor', () => {
  it('always gives an invoice the same store, and spreads invoices over all of them', () => {
    const numbers = Array.from({ length: 5_000 }, (_, index) => String(536_365 + index));
    expect(numbers.map((number) => storeIdFor(number, 7))).toEqual(numbers.map((number) => storeIdFor(number, 7)));
    const counts = new Map<string, number>();
    for (const number of numbers) counts.set(storeIdFor(number, 7), (counts.get(storeIdFor(number, 7)) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(['store-001', 'store-002', 'store-003', 'store-004', 'store-005', 'store-006', 'store-007']);
    for (const count of counts.values()) expect(count).toBeGreaterThan(5_000 / 7 / 2);
  });
});

describe('one-by-one invoice numbers', () => {
  it('are distinct per (invoice, line), keep the prefix, and map back', () => {
    expect(oneByOneInvoiceNo('536365', 3)).toBe('5363650003');
    expect(oneByOneInvoiceNo('C536379', 1)).toBe('C5363790001');
    expect(parseOneByOneInvoiceNo('C5363790012')).toEqual({ invoiceNo: 'C536379', lineNo: 12 });
    // 53636 line 50003 cannot exist (4 digits), so 536365 line 3 and 5363 line 650003 never collide.
    expect(() => oneByOneInvoiceNo('5363', 10_000)).toThrow(RangeError);
    expect(() => oneByOneInvoiceNo('5363', 0)).toThrow(RangeError);
  });
});
