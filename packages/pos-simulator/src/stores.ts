/**
 * Which simulated store sends an invoice: a hash of the invoice number, so a re-run (or a resend) attributes every
 * invoice to the same store, whatever the order of reading. Ids match the ingest service's `stores` param
 * (`store-001` ...).
 */
export function storeIdFor(invoiceNo: string, stores: number): string {
  // FNV-1a, 32 bits: stable and well spread for short keys.
  let hash = 0x811c9dc5;
  for (let index = 0; index < invoiceNo.length; index += 1) {
    hash ^= invoiceNo.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `store-${String((hash % stores) + 1).padStart(3, '0')}`;
}
