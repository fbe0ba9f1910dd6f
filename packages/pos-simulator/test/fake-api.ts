import { parseInvoicesBody, type AcceptedReply, type ErrorReply, type Invoice } from '@invoice-pipeline/transactions';
import type { Clock } from '../src/pacing';

/** A request the fake API received, and the invoices in it (when the body was valid JSON). */
export interface ReceivedRequest {
  apiKey: string | null;
  bytes: number;
  invoices: Invoice[];
  single: boolean;
}

type Reply = { status: number; body: AcceptedReply | ErrorReply | string; headers?: Record<string, string> };

/**
 * POST /invoices in memory, validating with the real schema (parseInvoicesBody). `intercept` can answer a request
 * before the normal handling (throttling, errors), given the request number and its invoices.
 */
export class FakeApi {
  readonly requests: ReceivedRequest[] = [];
  /** Every invoice accepted, in order (a resend appears twice, as in a stream). */
  readonly accepted: Invoice[] = [];
  private sequence = 0;

  constructor(
    private readonly options: {
      apiKey?: string;
      intercept?: (request: ReceivedRequest, number: number) => Reply | Error | undefined;
    } = {},
  ) {}

  readonly fetch: typeof fetch = async (_input, init) => {
    const body = String(init?.body ?? '');
    const headers = new Headers(init?.headers);
    let parsedBody: unknown;
    try {
      parsedBody = JSON.parse(body);
    } catch {
      parsedBody = undefined;
    }
    const parsed = parseInvoicesBody(parsedBody);
    const request: ReceivedRequest = {
      apiKey: headers.get('x-api-key'),
      bytes: Buffer.byteLength(body),
      invoices: parsed.ok ? parsed.value : [],
      single: typeof parsedBody === 'object' && parsedBody !== null && !('invoices' in parsedBody),
    };
    const number = this.requests.push(request);
    const reply = this.options.intercept?.(request, number) ?? this.handle(request, parsed);
    if (reply instanceof Error) throw reply;
    return new Response(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body), {
      status: reply.status,
      headers: { 'content-type': 'application/json', ...reply.headers },
    });
  };

  private handle(request: ReceivedRequest, parsed: ReturnType<typeof parseInvoicesBody>): Reply {
    if (this.options.apiKey && request.apiKey !== this.options.apiKey) return { status: 403, body: { message: 'Forbidden' } };
    if (!parsed.ok) return { status: 400, body: { message: 'invalid', problems: parsed.problems } };
    this.accepted.push(...parsed.value);
    return {
      status: 202,
      body: {
        accepted: parsed.value.map((invoice) => ({
          invoiceNo: invoice.invoiceNo,
          lines: invoice.lines.length,
          shardId: 'shardId-000000000000',
          sequenceNumber: String((this.sequence += 1)),
        })),
      },
    };
  }
}

/** A clock that only moves when slept on; records every sleep. */
export function fakeClock(): Clock & { sleeps: number[]; time(): number } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    sleeps,
    time: () => now,
  };
}
