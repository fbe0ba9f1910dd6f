import { PutItemCommand, QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { dynaliteForSuite } from './dynalite-fixture';

/**
 * dynalite is patched (patches/dynalite@4.0.0.patch) to parse a condition expression once per expression text, names
 * and value types, and to put each request's own values into a copy of the parsed condition. These are the cases a
 * wrong cache would get wrong: the same expression sent again with other values, other names, values of another
 * type, or an unused value must be judged on what this request sent.
 */
describe('dynalite condition expressions, parsed once per expression', () => {
  const TableName = 'conditions';
  const suite = dynaliteForSuite('conditions', {
    TableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
  });

  // The stream processor's header gate: a version replaces only an older or equal one.
  const GATE = '(attribute_not_exists(#version) OR #version <= :version) AND (attribute_not_exists(#store) OR #store = :store)';
  const putVersion = (pk: string, version: number, store: string) =>
    suite.client().send(
      new PutItemCommand({
        TableName,
        Item: { pk: { S: pk }, sk: { S: 'header' }, version: { N: String(version) }, storeId: { S: store } },
        ConditionExpression: GATE,
        ExpressionAttributeNames: { '#version': 'version', '#store': 'storeId' },
        ExpressionAttributeValues: { ':version': { N: String(version) }, ':store': { S: store } },
      }),
    );

  it('the same condition with other values is judged on the new values', async () => {
    await putVersion('536365', 5, 'store-001');
    await putVersion('536365', 7, 'store-001');
    // Parsed before with :version 5 and 7: an older version and another store must still be refused.
    await expect(putVersion('536365', 6, 'store-001')).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    await expect(putVersion('536365', 8, 'store-002')).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    await putVersion('536365', 9, 'store-001');
    await putVersion('536366', 1, 'store-002');
  });

  it('the same expression with other attribute names reads the attributes those names give', async () => {
    const put = (name: string, value: string) =>
      suite.client().send(
        new PutItemCommand({
          TableName,
          Item: { pk: { S: 'named' }, sk: { S: 'x' }, colour: { S: 'red' }, size: { S: 'big' } },
          ConditionExpression: 'attribute_not_exists(pk) OR #a = :v',
          ExpressionAttributeNames: { '#a': name },
          ExpressionAttributeValues: { ':v': { S: value } },
        }),
      );
    await put('colour', 'red');
    await put('colour', 'red');
    await put('size', 'big');
    await expect(put('size', 'red')).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
  });

  it('a value of another type is checked again (begins_with takes a string, not a number)', async () => {
    const put = (value: AttributeValue) =>
      suite.client().send(
        new PutItemCommand({
          TableName,
          Item: { pk: { S: 'typed' }, sk: { S: 'x' } },
          ConditionExpression: 'attribute_not_exists(pk) OR begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':prefix': value },
        }),
      );
    await put({ S: 'x' });
    await put({ S: 'x' });
    await expect(put({ N: '1' })).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/Incorrect operand type/) });
  });

  it('an unused value is refused on a repeated expression too', async () => {
    const put = (values: Record<string, AttributeValue>) =>
      suite.client().send(new PutItemCommand({ TableName, Item: { pk: { S: 'unused' }, sk: { S: 'x' } }, ConditionExpression: 'attribute_not_exists(sk) OR sk = :sk', ExpressionAttributeValues: values }));
    await put({ ':sk': { S: 'x' } });
    await put({ ':sk': { S: 'x' } });
    await expect(put({ ':sk': { S: 'x' }, ':spare': { S: 'y' } })).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/unused in expressions: keys: \{:spare\}/) });
  });

  it('a repeated key condition returns the items of this request\'s key', async () => {
    const query = async (pk: string) =>
      (await suite.client().send(new QueryCommand({ TableName, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)', ExpressionAttributeValues: { ':pk': { S: pk }, ':sk': { S: 'head' } } }))).Items?.map(
        (item) => item.pk?.S,
      );
    expect(await query('536365')).toEqual(['536365']);
    expect(await query('536366')).toEqual(['536366']);
    expect(await query('536367')).toEqual([]);
  });

  it('BETWEEN is judged on its bounds every time (an upper bound below the lower one is an error)', async () => {
    const put = (from: string, to: string) =>
      suite.client().send(
        new PutItemCommand({
          TableName,
          Item: { pk: { S: 'between' }, sk: { S: 'x' }, n: { N: '5' } },
          ConditionExpression: 'attribute_not_exists(pk) OR n BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':from': { N: from }, ':to': { N: to } },
        }),
      );
    await put('1', '9');
    await put('1', '9');
    await expect(put('9', '1')).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/upper bound to be greater than or equal to lower bound/) });
  });
});
