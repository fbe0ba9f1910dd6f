/**
 * `--one-by-one` posts every CSV row as an invoice of its own, as naive scripts do. Sent under its own number,
 * row 3 of invoice 536365 would be line 1 of invoice 536365, and would overwrite row 1 in every sink (a line's
 * identity is (invoiceNo, lineNo)). So each row gets a distinct invoice number: the original number followed by
 * its 4-digit line number (536365 line 3 -> 5363650003, C536379 line 1 -> C5363790001). The mapping is one-to-one
 * (drop the last 4 digits to get the original back) and keeps the C/A prefix, so invoice types survive. These
 * numbers never occur in the real data (6 digits), but they are not the source's invoices: this mode is for
 * benchmarks, never for loading a pipeline whose totals are reconciled per invoice.
 */
const ONE_BY_ONE_LINE_DIGITS = 4;

export function oneByOneInvoiceNo(invoiceNo: string, lineNo: number): string {
  if (!Number.isInteger(lineNo) || lineNo < 1 || lineNo >= 10 ** ONE_BY_ONE_LINE_DIGITS) {
    throw new RangeError(`line ${lineNo} of invoice ${invoiceNo} cannot be numbered in one-by-one mode (1-${10 ** ONE_BY_ONE_LINE_DIGITS - 1})`);
  }
  return `${invoiceNo}${String(lineNo).padStart(ONE_BY_ONE_LINE_DIGITS, '0')}`;
}

/** The source invoice and line a one-by-one invoice number stands for. */
export function parseOneByOneInvoiceNo(invoiceNo: string): { invoiceNo: string; lineNo: number } {
  return { invoiceNo: invoiceNo.slice(0, -ONE_BY_ONE_LINE_DIGITS), lineNo: Number(invoiceNo.slice(-ONE_BY_ONE_LINE_DIGITS)) };
}
