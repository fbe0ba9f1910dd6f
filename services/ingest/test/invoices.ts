import { type Invoice } from '@invoice-pipeline/transactions';
import { BUNDLED_SAMPLES, groupInvoices, readSource } from '@invoice-pipeline/transactions/files';

/** Real invoices: the first `count` of the bundled Kaggle head sample. */
export async function sampleInvoices(count: number): Promise<Invoice[]> {
  const invoices: Invoice[] = [];
  for await (const item of groupInvoices(readSource(BUNDLED_SAMPLES.kaggleHead), { storeIdFor: () => 'store-001' })) {
    if (item.kind === 'invoice') invoices.push(item.invoice);
    if (invoices.length === count) break;
  }
  return invoices;
}
