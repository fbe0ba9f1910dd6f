import { z } from 'zod';
import { DECIMAL_PATTERN, MONEY_SCALE, canonicalDecimal, formatMillis, lineTotalMillis, parseMillis } from './money';
import { TEXT_MAX_BYTES, WAREHOUSE_TYPES, integerDigits, maxMillis, numericSql, unstorableTextReason, utf8Bytes } from './sink-limits';

/** Limits an invoice must respect. The real data has invoices of up to 1,114 lines. Field bounds: sink-limits.ts. */
export const LIMITS = {
  maxLinesPerInvoice: 5_000,
  maxInvoicesPerBatch: 500,
} as const;

export const INVOICE_NO_PATTERN = /^[CA]?\d{1,20}$/;
/** Local wall-clock time of the store (the dataset is UK local time), seconds included, no offset. */
export const LOCAL_DATETIME_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function isValidLocalDateTime(text: string): boolean {
  const match = LOCAL_DATETIME_PATTERN.exec(text);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return (
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second
  );
}

export const InvoiceNo = z
  .string()
  .regex(INVOICE_NO_PATTERN, 'must be digits, optionally prefixed by C (cancellation) or A (adjustment), e.g. "536365"')
  .meta({ description: 'Invoice number. A "C" prefix marks a cancellation, an "A" prefix a bad-debt adjustment.', examples: ['536365', 'C536379'] });

export const LocalDateTime = z
  .string()
  .regex(LOCAL_DATETIME_PATTERN, { error: 'must be a local date-time "YYYY-MM-DDTHH:mm:ss" (store time, no offset)', abort: true })
  .refine(isValidLocalDateTime, 'is not a real calendar date and time')
  .meta({ description: 'Store-local wall-clock time (UK for the reference retailer), no offset.', examples: ['2010-12-01T08:26:00'] });

const PRICE_DIGITS = integerDigits(WAREHOUSE_TYPES.unitPrice);
/** A unit price: what the warehouse's NUMERIC(18,3) holds, written with at most that many digits (no million-digit "0…01"). */
export const PRICE_PATTERN = new RegExp(`^[+-]?\\d{1,${PRICE_DIGITS}}(?:\\.\\d{1,${MONEY_SCALE}})?$`);
const MONEY_MESSAGE = `must be an exact decimal string with at most ${PRICE_DIGITS} digits before the point and ${MONEY_SCALE} after, e.g. "2.55" (money is never a float)`;
export const Money = z
  .string({ error: MONEY_MESSAGE })
  .regex(PRICE_PATTERN, MONEY_MESSAGE)
  .meta({ description: `Exact decimal amount in GBP as a string, at most ${MONEY_SCALE} decimals (the warehouse's ${numericSql(WAREHOUSE_TYPES.unitPrice)}).`, examples: ['2.55', '0.001', '-11062.06'] });

/** Text every sink stores as sent: at most maxBytes of UTF-8 (Redshift's VARCHAR counts bytes), no NUL, valid Unicode. */
function storableText(maxBytes: number) {
  const tooLong = `must be at most ${maxBytes} bytes of UTF-8`;
  return z
    .string()
    .max(maxBytes, { error: tooLong, abort: true })
    .check((ctx) => {
      const reason = PLAIN_ASCII.test(ctx.value) ? undefined : utf8Bytes(ctx.value) > maxBytes ? tooLong : unstorableTextReason(ctx.value);
      if (reason) ctx.issues.push({ code: 'custom', message: reason, input: ctx.value });
    })
    .meta({ description: `At most ${maxBytes} bytes of UTF-8, no NUL character.` });
}
/** ASCII without NUL: one byte a character, storable everywhere (nearly every real value; checked first for speed). */
const PLAIN_ASCII = /^[\x01-\x7f]*$/;

/** The largest line total the warehouse's line_total column holds, in thousandths (computed once, not per line). */
const LINE_TOTAL_MAX_MILLIS = maxMillis(WAREHOUSE_TYPES.lineTotal);

/** One line of an invoice as a POS sends it. */
export const InvoiceLine = z
  .object({
    stockCode: storableText(TEXT_MAX_BYTES.stockCode).min(1).meta({ description: 'Product or service code, kept as sent (e.g. "85123A", "POST", "BANK CHARGES").' }),
    description: storableText(TEXT_MAX_BYTES.description).nullable().meta({ description: 'Product description as sent (spaces, quotes and £ kept), or null when unknown.' }),
    quantity: z
      .number()
      .int('must be a whole number')
      .min(WAREHOUSE_TYPES.quantity.min)
      .max(WAREHOUSE_TYPES.quantity.max)
      .meta({ description: 'Units; negative on cancellations (and on some sales: damaged or lost stock).' }),
    unitPrice: Money.meta({ description: 'Unit price in GBP, exact decimal string; negative only on adjustments ("A" invoices).' }),
    invoiceDate: LocalDateTime.optional().meta({
      description: "This line's own timestamp, only when it differs from the invoice's (a few real invoices span a minute).",
    }),
  })
  .strict()
  .superRefine((line, ctx) => {
    // The line total (quantity x price) must fit the warehouse's line_total column too.
    // Refinements run even when a field is already wrong; check only a well-formed pair.
    if (typeof line.unitPrice !== 'string' || !PRICE_PATTERN.test(line.unitPrice) || !Number.isSafeInteger(line.quantity)) return;
    const price = parseMillis(line.unitPrice) as bigint;
    const limit = LINE_TOTAL_MAX_MILLIS;
    const total = BigInt(line.quantity) * price;
    if (total > limit || total < -limit) {
      ctx.addIssue({
        code: 'custom',
        path: ['quantity'],
        message: `quantity x unitPrice must be at most ${formatMillis(limit)} in size (the line total's ${numericSql(WAREHOUSE_TYPES.lineTotal)})`,
      });
    }
  })
  .meta({ id: 'InvoiceLine' });

/** An invoice as a POS sends it: the body of POST /invoices. */
export const Invoice = z
  .object({
    invoiceNo: InvoiceNo,
    invoiceDate: LocalDateTime,
    customerId: z.string().regex(ID_PATTERN, 'must be 1-64 letters, digits, "_" or "-"').nullable().meta({
      description: 'Customer id, or null for a guest sale.',
      examples: ['17850', null],
    }),
    country: storableText(TEXT_MAX_BYTES.country).min(1).meta({ description: 'Country of the customer, as sent.', examples: ['United Kingdom'] }),
    storeId: z.string().regex(ID_PATTERN, 'must be 1-64 letters, digits, "_" or "-"').meta({ description: 'The POS store that sent the invoice.' }),
    lines: z
      .array(InvoiceLine)
      .min(1, 'an invoice has at least one line')
      .max(LIMITS.maxLinesPerInvoice, `an invoice has at most ${LIMITS.maxLinesPerInvoice} lines`)
      .meta({ description: 'Lines in the order the POS recorded them; line numbers are their 1-based positions here.' }),
  })
  .strict()
  .superRefine((invoice, ctx) => {
    // Only a bad-debt adjustment ("A" invoice) takes money back through a negative price; a cancellation negates
    // the quantity instead, and a sale never has a negative price.
    if (typeof invoice.invoiceNo !== 'string' || invoiceTypeOf(invoice.invoiceNo) === 'adjustment' || !Array.isArray(invoice.lines)) return;
    invoice.lines.forEach((line, index) => {
      const price = typeof line?.unitPrice === 'string' && PRICE_PATTERN.test(line.unitPrice) ? parseMillis(line.unitPrice) : undefined;
      if (price !== undefined && price < 0n) {
        ctx.addIssue({ code: 'custom', path: ['lines', index, 'unitPrice'], message: 'must not be negative: only an adjustment ("A" invoice number) has a negative price' });
      }
    });
  })
  .meta({ id: 'Invoice' });

/** A batch of invoices in one request. */
export const InvoiceBatch = z
  .object({
    invoices: z
      .array(Invoice)
      .min(1, 'a batch has at least one invoice')
      .max(LIMITS.maxInvoicesPerBatch, `a batch has at most ${LIMITS.maxInvoicesPerBatch} invoices`),
  })
  .strict()
  .meta({ id: 'InvoiceBatch' });

export const PostInvoicesBody = z.union([Invoice, InvoiceBatch]).meta({ id: 'PostInvoicesBody' });

export const InvoiceType = z.enum(['sale', 'cancellation', 'adjustment']);

/** The line every sink stores: the sent values plus derived fields. Identity: (invoiceNo, lineNo). */
export const NormalisedLine = z
  .object({
    invoiceNo: InvoiceNo,
    lineNo: z.number().int().min(1),
    invoiceType: InvoiceType,
    invoiceDate: LocalDateTime,
    customerId: z.string().nullable(),
    country: z.string(),
    storeId: z.string(),
    stockCode: z.string(),
    description: z.string().nullable(),
    quantity: z.number().int(),
    unitPrice: Money,
    lineTotal: z.string().regex(DECIMAL_PATTERN),
  })
  .strict()
  .meta({ id: 'NormalisedLine' });

export type InvoiceLine = z.infer<typeof InvoiceLine>;
export type Invoice = z.infer<typeof Invoice>;
export type InvoiceBatch = z.infer<typeof InvoiceBatch>;
export type PostInvoicesBody = z.infer<typeof PostInvoicesBody>;
export type InvoiceType = z.infer<typeof InvoiceType>;
export type NormalisedLine = z.infer<typeof NormalisedLine>;

export function invoiceTypeOf(invoiceNo: string): InvoiceType {
  if (invoiceNo.startsWith('C')) return 'cancellation';
  if (invoiceNo.startsWith('A')) return 'adjustment';
  return 'sale';
}

/** Derives the stored lines of a valid invoice. lineNo is the 1-based position as sent; values are kept as sent. */
export function normaliseInvoice(invoice: Invoice): NormalisedLine[] {
  const invoiceType = invoiceTypeOf(invoice.invoiceNo);
  return invoice.lines.map((line, index) => ({
    invoiceNo: invoice.invoiceNo,
    lineNo: index + 1,
    invoiceType,
    invoiceDate: line.invoiceDate ?? invoice.invoiceDate,
    customerId: invoice.customerId,
    country: invoice.country,
    storeId: invoice.storeId,
    stockCode: line.stockCode,
    description: line.description,
    quantity: line.quantity,
    unitPrice: canonicalDecimal(line.unitPrice) as string,
    lineTotal: formatMillis(lineTotalMillis(line.quantity, line.unitPrice)),
  }));
}
