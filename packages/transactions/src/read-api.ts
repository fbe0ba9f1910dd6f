import { z } from 'zod';
import { ID_PATTERN, InvoiceNo, InvoiceType, LocalDateTime, Money } from './schemas';
import { problemsOf, type FieldProblem } from './validation';

/** The read side: GET /invoices/{invoiceNo} and GET /customers/{customerId}/invoices, replies and parameters. */

export const READ_LIMITS = { defaultPageSize: 20, maxPageSize: 100 } as const;

export const StoredLine = z
  .object({
    lineNo: z.number().int().min(1),
    invoiceDate: LocalDateTime,
    stockCode: z.string(),
    description: z.string().nullable(),
    quantity: z.number().int(),
    unitPrice: Money,
    lineTotal: z.string().meta({ description: 'quantity x unitPrice, exact decimal string.' }),
  })
  .meta({ id: 'StoredLine' });

export const InvoiceReply = z
  .object({
    invoiceNo: InvoiceNo,
    invoiceType: InvoiceType,
    invoiceDate: LocalDateTime,
    customerId: z.string().nullable(),
    country: z.string(),
    storeId: z.string(),
    lineCount: z.number().int().min(1),
    total: z.string().meta({ description: 'Sum of the line totals, exact decimal string.' }),
    lines: z.array(StoredLine).optional().meta({ description: 'Every line in line order (absent when only headers were asked for).' }),
  })
  .meta({ id: 'InvoiceReply', description: 'An invoice as it was last accepted.' });

export const CustomerInvoicesReply = z
  .object({
    invoices: z.array(InvoiceReply).meta({ description: 'Newest first.' }),
    nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
  })
  .meta({ id: 'CustomerInvoicesReply' });

/** A date ("2011-12-09", the whole day) or a local date-time. */
const DateBound = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?$/, 'must be a date "YYYY-MM-DD" or a local date-time "YYYY-MM-DDTHH:mm:ss"');

export const CustomerInvoicesQuery = z
  .object({
    from: DateBound.optional().meta({ description: 'Earliest invoice date, inclusive.' }),
    to: DateBound.optional().meta({ description: 'Latest invoice date, inclusive (a date means the whole day).' }),
    limit: z
      .string()
      .regex(/^\d{1,4}$/, 'must be a whole number')
      .transform(Number)
      .pipe(z.number().min(1, 'must be at least 1').max(READ_LIMITS.maxPageSize, `must be at most ${READ_LIMITS.maxPageSize}`))
      .optional(),
    cursor: z.string().max(2_000, 'is not a cursor this API gave').optional().meta({ description: 'Opaque: the nextCursor of the previous page.' }),
    lines: z.enum(['true', 'false'], 'must be true or false').optional().meta({ description: 'true: every invoice with its lines; default: headers only.' }),
  })
  .strict();

export type StoredLine = z.infer<typeof StoredLine>;
export type InvoiceReply = z.infer<typeof InvoiceReply>;
export type CustomerInvoicesReply = z.infer<typeof CustomerInvoicesReply>;

export interface CustomerInvoicesRequest {
  customerId: string;
  /** Inclusive bounds as local date-times. */
  from?: string;
  to?: string;
  pageSize: number;
  cursor?: string;
  withLines: boolean;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; problems: FieldProblem[] };

export function parseInvoiceNoParameter(value: unknown): Parsed<string> {
  const parsed = InvoiceNo.safeParse(value);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, problems: problemsOf(parsed.error, 'path.invoiceNo') };
}

/** Parameters of GET /customers/{customerId}/invoices; problems are named `path.customerId`, `query.limit`, ... */
export function parseCustomerInvoicesRequest(customerId: unknown, query: Record<string, string | undefined> | null): Parsed<CustomerInvoicesRequest> {
  const problems: FieldProblem[] = [];
  if (typeof customerId !== 'string' || !ID_PATTERN.test(customerId)) problems.push({ path: 'path.customerId', message: 'must be 1-64 letters, digits, "_" or "-"' });
  const parsed = CustomerInvoicesQuery.safeParse(query ?? {});
  if (!parsed.success) problems.push(...problemsOf(parsed.error, 'query'));
  if (problems.length || !parsed.success) return { ok: false, problems };
  const { limit, cursor, lines } = parsed.data;
  const from = parsed.data.from?.length === 10 ? `${parsed.data.from}T00:00:00` : parsed.data.from;
  const to = parsed.data.to?.length === 10 ? `${parsed.data.to}T23:59:59` : parsed.data.to;
  if (from && to && from > to) return { ok: false, problems: [{ path: 'query.from', message: 'must not be after `to`' }] };
  return {
    ok: true,
    value: {
      customerId: customerId as string,
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
      pageSize: limit ?? READ_LIMITS.defaultPageSize,
      ...(cursor ? { cursor } : {}),
      withLines: lines === 'true',
    },
  };
}
