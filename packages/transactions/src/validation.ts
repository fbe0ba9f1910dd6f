import type { z } from 'zod';
import { Invoice, InvoiceBatch, NormalisedLine } from './schemas';

/** One problem with a request body: where (a path like `invoices[2].lines[0].unitPrice`) and what. */
export interface FieldProblem {
  path: string;
  message: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problems: FieldProblem[] };

export function formatPath(path: ReadonlyArray<PropertyKey>, prefix = ''): string {
  let text = prefix;
  for (const key of path) {
    text += typeof key === 'number' ? `[${key}]` : `${text ? '.' : ''}${String(key)}`;
  }
  return text || '(body)';
}

/** A reply names at most this many unknown keys of one object, each cut to KEY_NAME_SHOWN characters. */
export const UNKNOWN_KEYS_SHOWN = 5;
export const KEY_NAME_SHOWN = 40;

/** An unknown key's name as a reply may show it: a caller's 4 MB key name never comes back (or reaches a log). */
function shownKey(key: string): string {
  return JSON.stringify(key.length > KEY_NAME_SHOWN ? `${key.slice(0, KEY_NAME_SHOWN)}…` : key);
}

function messageOf(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'unrecognized_keys') return issue.message;
  const shown = issue.keys.slice(0, UNKNOWN_KEYS_SHOWN).map(shownKey).join(', ');
  const more = issue.keys.length > UNKNOWN_KEYS_SHOWN ? ` and ${issue.keys.length - UNKNOWN_KEYS_SHOWN} more` : '';
  return `unknown field(s) ${shown}${more}: only the documented fields are accepted`;
}

export function problemsOf(error: z.ZodError, prefix = ''): FieldProblem[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path, prefix), message: messageOf(issue) }));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses the body of POST /invoices: one invoice, or `{ "invoices": [...] }`.
 * Every problem is reported with its field path; an invoice number given twice in one batch is a problem too.
 */
export function parseInvoicesBody(body: unknown): Parsed<Invoice[]> {
  if (isRecord(body) && 'invoices' in body) {
    const parsed = InvoiceBatch.safeParse(body);
    if (!parsed.success) return { ok: false, problems: problemsOf(parsed.error) };
    const firstIndex = new Map<string, number>();
    const problems: FieldProblem[] = [];
    parsed.data.invoices.forEach((invoice, index) => {
      const earlier = firstIndex.get(invoice.invoiceNo);
      if (earlier === undefined) firstIndex.set(invoice.invoiceNo, index);
      else problems.push({ path: `invoices[${index}].invoiceNo`, message: `duplicates invoices[${earlier}].invoiceNo in this batch` });
    });
    return problems.length ? { ok: false, problems } : { ok: true, value: parsed.data.invoices };
  }
  if (!isRecord(body)) return { ok: false, problems: [{ path: '(body)', message: 'must be a JSON object: one invoice or {"invoices": [...]}' }] };
  const parsed = Invoice.safeParse(body);
  return parsed.success ? { ok: true, value: [parsed.data] } : { ok: false, problems: problemsOf(parsed.error) };
}

/** Re-validates an invoice read from a stream or a file (the consumer trusts nothing it did not check). */
export function parseInvoice(value: unknown): Parsed<Invoice> {
  const parsed = Invoice.safeParse(value);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, problems: problemsOf(parsed.error) };
}

export function parseNormalisedLine(value: unknown): Parsed<NormalisedLine> {
  const parsed = NormalisedLine.safeParse(value);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, problems: problemsOf(parsed.error) };
}
