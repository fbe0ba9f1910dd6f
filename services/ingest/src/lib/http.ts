import type { MiddlewareObj, Request } from '@middy/core';
import type { ErrorReply } from '@invoice-pipeline/transactions';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/**
 * An error the caller may see: its status, an ErrorReply body and optional headers. The body is JSON in the
 * message, which is how @middy/http-error-handler sends a JSON body. Only 4xx are exposed by default; a 5xx sent on
 * purpose (503) says so and carries a generic message.
 */
export class HttpError extends Error {
  override name = 'HttpError';
  readonly expose: boolean;
  constructor(
    readonly statusCode: number,
    readonly reply: ErrorReply,
    readonly headers: Record<string, string> = {},
    options: { expose?: boolean } = {},
  ) {
    super(JSON.stringify(reply));
    this.expose = options.expose ?? statusCode < 500;
  }
}

/** An error middy or another middleware raised with an HTTP status (e.g. @middy/http-json-body-parser's 415). */
export function isHttpStatusError(error: unknown): error is Error & { statusCode: number; expose?: boolean } {
  return error instanceof Error && typeof (error as { statusCode?: unknown }).statusCode === 'number';
}

export function jsonReply(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

type HttpRequest = Request<APIGatewayProxyEvent, APIGatewayProxyResult>;

/** Refuses a body over maxBytes with 413 before anything parses it. */
export function limitBodySize(maxBytes: number): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    before: async ({ event }: HttpRequest) => {
      const bytes = event.body ? Buffer.byteLength(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : 0;
      if (bytes > maxBytes) {
        throw new HttpError(413, { message: `The body is ${bytes} bytes; the limit is ${maxBytes} bytes. Send fewer invoices per request.` });
      }
    },
  };
}

/** application/json or application/<x>+json, parameters allowed; media types are case-insensitive (RFC 9110). */
const JSON_MEDIA_TYPE = /^application\/([a-z0-9.-]+\+)?json\s*(;.*)?$/i;

/** Refuses a body whose Content-Type is not JSON with 415 (a body that is JSON but broken is a 400, not a 415). */
export function requireJsonMediaType(): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    before: async ({ event }: HttpRequest) => {
      const contentType = event.headers?.['content-type'] ?? '';
      if (!JSON_MEDIA_TYPE.test(contentType.trim())) {
        throw new HttpError(415, { message: 'Send the body as JSON, with Content-Type: application/json.' });
      }
    },
  };
}

/**
 * onError: replaces the error with the HttpError `map` gives for it (if any), for @middy/http-error-handler to
 * send. Errors left unmapped become http-error-handler's generic 500.
 */
export function mapErrors(map: (error: unknown, request: HttpRequest) => HttpError | undefined): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    onError: async (request: HttpRequest) => {
      const mapped = map(request.error, request);
      if (mapped) request.error = mapped;
    },
  };
}
