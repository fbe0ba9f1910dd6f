import { normaliseInvoice, type Invoice } from '@invoice-pipeline/transactions';
import { invoiceItems } from './dynamodb-items';
import { packWarehouseRecords, sendToWarehouse, type WarehouseStreamTarget } from './send-warehouse';
import { replaceInvoiceItems, type DynamoDbTarget } from './write-dynamodb';

export interface InvoiceSinks {
  table: DynamoDbTarget;
  warehouse: WarehouseStreamTarget;
}

export interface Landed {
  lines: number;
  /** `superseded`: a newer version of the invoice is already in DynamoDB, so this one is not sent anywhere. */
  status: 'landed' | 'superseded';
}

/**
 * Lands one valid invoice, version `version`, in DynamoDB and on the warehouse delivery stream. Safe to repeat: both
 * sinks are keyed by (invoiceNo, lineNo) and keep the newest version. The warehouse rows are packed (and checked
 * against the warehouse's bounds) first, so a refused invoice writes nothing; DynamoDB goes before Firehose, so a row
 * DynamoDB refuses never reaches the warehouse. Throws SinkRefusedError when a sink refuses the invoice.
 */
export async function landInvoice(invoice: Invoice, version: string, sinks: InvoiceSinks): Promise<Landed> {
  const lines = normaliseInvoice(invoice);
  const records = packWarehouseRecords(lines, version);
  const status = await replaceInvoiceItems(invoiceItems(lines, version), version, sinks.table);
  if (status === 'superseded') return { lines: lines.length, status };
  await sendToWarehouse(records, sinks.warehouse);
  return { lines: lines.length, status: 'landed' };
}
