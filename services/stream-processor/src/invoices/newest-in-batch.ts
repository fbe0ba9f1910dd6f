import { recordVersion } from '@invoice-pipeline/transactions';
import type { Decoded } from './decode';

export interface DecodedRecord {
  sequenceNumber: string;
  decoded: Decoded;
}

/**
 * Sequence numbers of records that an invoice's newer version in the same batch supersedes. Records of a batch are
 * processed in parallel, so two versions of one invoice would race; only the newest lands, the older ones are done.
 */
export function supersededInBatch(records: readonly DecodedRecord[]): Set<string> {
  const newest = new Map<string, string>();
  for (const { sequenceNumber, decoded } of records) {
    if (!decoded.ok) continue;
    const version = recordVersion(sequenceNumber);
    const current = newest.get(decoded.invoice.invoiceNo);
    if (current === undefined || version > current) newest.set(decoded.invoice.invoiceNo, version);
  }
  const superseded = new Set<string>();
  for (const { sequenceNumber, decoded } of records) {
    if (decoded.ok && newest.get(decoded.invoice.invoiceNo) !== recordVersion(sequenceNumber)) superseded.add(sequenceNumber);
  }
  return superseded;
}
