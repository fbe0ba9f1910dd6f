import type { FieldProblem } from '@invoice-pipeline/transactions';

/**
 * A sink refuses this invoice for what it holds (a number DynamoDB cannot store, a value out of a warehouse column's
 * range, a row larger than a Firehose record): retrying cannot help, so the record becomes a bad row with this reason
 * and its neighbours go on.
 */
export class SinkRefusedError extends Error {
  override readonly name = 'SinkRefusedError';
  constructor(
    readonly sink: 'DynamoDB' | 'warehouse' | 'Firehose',
    readonly problems: FieldProblem[],
  ) {
    super(`refused by ${sink}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ').slice(0, 500)}`);
  }
}

/** DynamoDB answers ValidationException for an item it can never store (number precision, item size, empty key). */
export const isDynamoDbRefusal = (error: unknown): error is Error => error instanceof Error && error.name === 'ValidationException';
