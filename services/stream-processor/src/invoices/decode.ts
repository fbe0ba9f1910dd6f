import { parseInvoice, type FieldProblem, type Invoice } from '@invoice-pipeline/transactions';

export type Decoded = { ok: true; invoice: Invoice } | { ok: false; reason: string; problems: FieldProblem[] };

/** A stream record's data back to an invoice, re-validated with the shared schema (the consumer trusts nothing). */
export function decodeInvoiceRecord(base64Data: string): Decoded {
  const text = Buffer.from(base64Data, 'base64').toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: 'not JSON', problems: [{ path: '(record)', message: (error as Error).message }] };
  }
  const parsed = parseInvoice(json);
  return parsed.ok ? { ok: true, invoice: parsed.value } : { ok: false, reason: 'not a valid invoice', problems: parsed.problems };
}
