import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ID_PATTERN } from './schemas';

/**
 * Who an API key speaks for. API Gateway checks that a key is valid and enforces its usage plan; these bindings say
 * what it may do: a store key sends and reads only its own stores' invoices, a back-office key reads any invoice and
 * customers' histories (and sends nothing).
 *
 * A binding is found by the credential's id: `id:<apiKeyId>` for a key API Gateway generated (the id is in the
 * event's `requestContext.identity.apiKeyId`; the deployed map is built from the keys' CloudFormation refs), or
 * `sha256:<hex digest of the key value>` for a key whose value was made by whoever runs the API (the local stack;
 * serverless-offline 13 puts the same placeholder id in every event, so only the `x-api-key` header tells keys
 * apart there). The map holds no secret: ids and digests only.
 */
export const Principal = z.discriminatedUnion('role', [
  z.object({ role: z.literal('store'), stores: z.array(z.string().regex(ID_PATTERN)).min(1) }).strict(),
  z.object({ role: z.literal('backoffice') }).strict(),
]);
export type Principal = z.infer<typeof Principal>;

export const KeyBindings = z.record(z.string().regex(/^(id|sha256):[A-Za-z0-9_-]{1,128}$/), Principal);
export type KeyBindings = z.infer<typeof KeyBindings>;

export const keyValueDigest = (value: string) => `sha256:${createHash('sha256').update(value, 'utf8').digest('hex')}`;

/** Parses the JSON of the bindings (an environment variable); throws with the reason when it is not one. */
export function parseKeyBindings(json: string): KeyBindings {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error('is not JSON');
  }
  const parsed = KeyBindings.safeParse(value);
  if (!parsed.success) throw new Error(`is not a map of credential to principal: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}

export interface RequestIdentity {
  apiKeyId?: string | null;
  /** The `x-api-key` header as received (any case of the header name). */
  apiKeyHeader?: string | null;
}

/** The principal of a request, or undefined when its key is bound to nobody (the caller gets a 403). */
export function principalOf(bindings: KeyBindings, identity: RequestIdentity): Principal | undefined {
  const byId = identity.apiKeyId ? bindings[`id:${identity.apiKeyId}`] : undefined;
  if (byId) return byId;
  return identity.apiKeyHeader ? bindings[keyValueDigest(identity.apiKeyHeader)] : undefined;
}

/** Stores of the request whose invoices this principal may not send; empty when it may send them all. */
export function storesNotSendable(principal: Principal, storeIds: readonly string[]): string[] {
  if (principal.role !== 'store') return [...new Set(storeIds)];
  return [...new Set(storeIds.filter((storeId) => !principal.stores.includes(storeId)))];
}

/** Whether this principal may read an invoice of that store. */
export function mayReadStore(principal: Principal, storeId: string): boolean {
  return principal.role === 'backoffice' || principal.stores.includes(storeId);
}

/**
 * Invoice numbers are unique across the retailer, not per store (the identity of a line stays (invoiceNo, lineNo)).
 * An invoice number, once stored, belongs to the store that sent it: a record of another store for the same number
 * must not replace it. Sinks that replace an invoice call this with what they hold.
 */
export function ownershipConflict(stored: { storeId: string } | undefined, incoming: { storeId: string; invoiceNo: string }): string | undefined {
  if (!stored || stored.storeId === incoming.storeId) return undefined;
  return `invoice ${incoming.invoiceNo} belongs to store ${stored.storeId}; store ${incoming.storeId} may not replace it`;
}
