import { z } from 'zod';
import { InvoiceNo } from './schemas';

/** The replies of POST /invoices, shared by the ingest service, its clients and the OpenAPI document. */

export const AcceptedInvoice = z
  .object({
    invoiceNo: InvoiceNo,
    lines: z.number().int().min(1),
    shardId: z.string(),
    sequenceNumber: z.string().meta({ description: 'Kinesis sequence number of the record that holds this invoice.' }),
  })
  .meta({ id: 'AcceptedInvoice' });

export const AcceptedReply = z
  .object({ accepted: z.array(AcceptedInvoice) })
  .meta({ id: 'AcceptedReply', description: 'Every invoice of the request is durably in the stream.' });

export const Problem = z.object({ path: z.string(), message: z.string() }).meta({ id: 'Problem' });

export const ErrorReply = z
  .object({
    message: z.string(),
    problems: z.array(Problem).optional().meta({ description: 'Every problem of a rejected body, by field path.' }),
  })
  .meta({ id: 'ErrorReply' });

export type AcceptedInvoice = z.infer<typeof AcceptedInvoice>;
export type AcceptedReply = z.infer<typeof AcceptedReply>;
export type ErrorReply = z.infer<typeof ErrorReply>;
