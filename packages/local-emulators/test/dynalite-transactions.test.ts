import {
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { dynaliteForSuite } from './dynalite-fixture';

/**
 * dynalite has no TransactWriteItems; the patch (patches/dynalite@4.0.0.patch) adds it with Put, Delete and
 * ConditionCheck actions. What the stream processor relies on: all or nothing (one failed condition writes nothing and
 * says which item failed, in request order), isolation from a concurrent transaction on the same item, and indexes
 * kept as single-item writes keep them.
 */
describe('dynalite TransactWriteItems', () => {
  const TableName = 'transactions';
  const suite = dynaliteForSuite('transactions', {
    TableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'customer', AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [{ IndexName: 'byCustomer', KeySchema: [{ AttributeName: 'customer', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } }],
  });

  const item = (pk: string, extra: Record<string, string> = {}) => Object.fromEntries(Object.entries({ pk, ...extra }).map(([name, value]) => [name, { S: value }]));
  const firstPut = (pk: string, extra?: Record<string, string>): TransactWriteItem => ({
    Put: { TableName, Item: item(pk, extra), ConditionExpression: 'attribute_not_exists(pk)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' },
  });
  const stored = async (pk: string) => (await suite.client().send(new GetItemCommand({ TableName, Key: item(pk), ConsistentRead: true }))).Item;
  const cancelled = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('the transaction was not cancelled');
      },
      (error: unknown) => {
        if (!(error instanceof TransactionCanceledException)) throw error;
        return error.CancellationReasons ?? [];
      },
    );

  it('writes every item when every condition holds, and keeps the indexes', async () => {
    await suite.client().send(new TransactWriteItemsCommand({ TransactItems: [firstPut('a1', { customer: 'c1' }), firstPut('a2', { customer: 'c1' })] }));
    expect(await stored('a1')).toEqual(item('a1', { customer: 'c1' }));
    const { Items = [] } = await suite.client().send(new QueryCommand({ TableName, IndexName: 'byCustomer', KeyConditionExpression: 'customer = :c', ExpressionAttributeValues: { ':c': { S: 'c1' } } }));
    expect(Items.map((found) => found.pk?.S).sort()).toEqual(['a1', 'a2']);
  });

  it('writes nothing when one condition fails, and names it in request order with the stored item', async () => {
    await suite.client().send(new PutItemCommand({ TableName, Item: item('b2', { note: 'there first' }) }));
    const reasons = await cancelled(suite.client().send(new TransactWriteItemsCommand({ TransactItems: [firstPut('b1'), firstPut('b2'), firstPut('b3')] })));
    expect(reasons.map((reason) => reason.Code)).toEqual(['None', 'ConditionalCheckFailed', 'None']);
    expect(reasons[1]?.Item).toEqual(item('b2', { note: 'there first' }));
    expect(await stored('b1')).toBeUndefined();
    expect(await stored('b3')).toBeUndefined();
  });

  it('deletes and checks conditions on other items in the same transaction', async () => {
    await suite.client().send(new PutItemCommand({ TableName, Item: item('c1', { state: 'old' }) }));
    await suite.client().send(new PutItemCommand({ TableName, Item: item('c2', { state: 'guard' }) }));
    const guard = (state: string): TransactWriteItem => ({
      ConditionCheck: { TableName, Key: item('c2'), ConditionExpression: '#state = :state', ExpressionAttributeNames: { '#state': 'state' }, ExpressionAttributeValues: { ':state': { S: state } } },
    });
    const reasons = await cancelled(suite.client().send(new TransactWriteItemsCommand({ TransactItems: [{ Delete: { TableName, Key: item('c1') } }, guard('other')] })));
    expect(reasons.map((reason) => reason.Code)).toEqual(['None', 'ConditionalCheckFailed']);
    expect(await stored('c1')).toBeDefined();
    await suite.client().send(new TransactWriteItemsCommand({ TransactItems: [{ Delete: { TableName, Key: item('c1') } }, guard('guard')] }));
    expect(await stored('c1')).toBeUndefined();
    expect(await stored('c2')).toBeDefined();
  });

  it('lets exactly one of many concurrent transactions on one item win, and only its other writes land', async () => {
    const racers = Array.from({ length: 20 }, (_, index) => suite.client().send(new TransactWriteItemsCommand({ TransactItems: [firstPut('d-shared'), firstPut(`d-own-${index}`)] })));
    const results = await Promise.allSettled(racers);
    const winners = results.flatMap((result, index) => (result.status === 'fulfilled' ? [index] : []));
    expect(winners).toHaveLength(1);
    for (const result of results) if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(TransactionCanceledException);
    const owned = await Promise.all(racers.map((_, index) => stored(`d-own-${index}`)));
    expect(owned.flatMap((found, index) => (found ? [index] : []))).toEqual(winners);
  });

  it('refuses two actions on one item and the Update action it does not emulate, with a ValidationException', async () => {
    await expect(suite.client().send(new TransactWriteItemsCommand({ TransactItems: [firstPut('e1'), firstPut('e1')] }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('multiple operations on one item'),
    });
    await expect(
      suite.client().send(new TransactWriteItemsCommand({ TransactItems: [{ Update: { TableName, Key: item('e2'), UpdateExpression: 'SET #n = :v', ExpressionAttributeNames: { '#n': 'n' }, ExpressionAttributeValues: { ':v': { S: 'x' } } } }] })),
    ).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('not supported') });
    expect(await stored('e1')).toBeUndefined();
  });
});
