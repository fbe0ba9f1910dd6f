import { normaliseInvoice, type Invoice } from '@invoice-pipeline/transactions';
import { invoiceItems } from './dynamodb-items';
import { sendLinesToWarehouse, type WarehouseStreamTarget } from './send-warehouse';
import { putItems, type DynamoDbTarget } from './write-dynamodb';

export interface InvoiceSinks {
  table: DynamoDbTarget;
  warehouse: WarehouseStreamTarget;
}

/** Lands one valid invoice in DynamoDB and on the warehouse delivery stream. Safe to repeat: both sinks are keyed by (invoiceNo, lineNo). */
export async function landInvoice(invoice: Invoice, sinks: InvoiceSinks): Promise<number> {
  const lines = normaliseInvoice(invoice);
  await Promise.all([putItems(invoiceItems(lines), sinks.table), sendLinesToWarehouse(lines, sinks.warehouse)]);
  return lines.length;
}
