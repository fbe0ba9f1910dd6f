import type { Invoice } from '../schemas';

/**
 * The dataset's first invoice (536365, 1 Dec 2010), its first three lines: the example of the API document and of
 * the benchmarks and tests that need one ordinary, valid invoice. Tests derive their edge cases from it.
 */
export const EXAMPLE_INVOICE: Invoice = Object.freeze({
  invoiceNo: '536365',
  invoiceDate: '2010-12-01T08:26:00',
  customerId: '17850',
  country: 'United Kingdom',
  storeId: 'store-001',
  lines: [
    { stockCode: '85123A', description: 'WHITE HANGING HEART T-LIGHT HOLDER', quantity: 6, unitPrice: '2.55' },
    { stockCode: '71053', description: 'WHITE METAL LANTERN', quantity: 6, unitPrice: '3.39' },
    { stockCode: '84406B', description: 'CREAM CUPID HEARTS COAT HANGER', quantity: 8, unitPrice: '2.75' },
  ],
});
