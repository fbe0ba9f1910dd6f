import { normaliseInvoice, sumDecimals, type Invoice, type InvoiceReply } from '@invoice-pipeline/transactions';

/** What GET /invoices/{invoiceNo} must give back for an invoice as sent: every value, lines in order, exact money. */
export function expectedReply(invoice: Invoice): InvoiceReply {
  const lines = normaliseInvoice(invoice);
  return {
    invoiceNo: invoice.invoiceNo,
    invoiceType: lines[0]!.invoiceType,
    invoiceDate: invoice.invoiceDate,
    customerId: invoice.customerId,
    country: invoice.country,
    storeId: invoice.storeId,
    lineCount: lines.length,
    total: sumDecimals(lines.map((line) => line.lineTotal)),
    lines: lines.map(({ lineNo, invoiceDate, stockCode, description, quantity, unitPrice, lineTotal }) => ({ lineNo, invoiceDate, stockCode, description, quantity, unitPrice, lineTotal })),
  };
}
