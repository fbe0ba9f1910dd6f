import { BatchWriteItemCommand, CreateTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../src/credentials';
import { startDynamoDb, type RunningServer } from '../src/emulators';
import { startUnprocessedItemsProxy, type UnprocessedItemsProxy } from '../src/testing';

describe('the DynamoDB proxy that leaves BatchWriteItem requests unprocessed', () => {
  let dynamodb: RunningServer;
  let proxy: UnprocessedItemsProxy;
  let client: DynamoDBClient;
  const put = (pk: string) => ({ PutRequest: { Item: { pk: { S: pk } } } });

  beforeAll(async () => {
    dynamodb = await startDynamoDb({ port: 0 });
    // Every request for "b…" keys is left unprocessed the first time it is sent.
    proxy = await startUnprocessedItemsProxy({ target: dynamodb.endpoint, leaveUnprocessed: (request, seen) => seen === 1 && JSON.stringify(request).includes('"b') });
    client = new DynamoDBClient({ endpoint: proxy.endpoint, region: LOCAL_REGION, credentials: { ...LOCAL_CREDENTIALS }, maxAttempts: 1 });
    await client.send(new CreateTableCommand({ TableName: 'items', BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] }));
  }, 30_000);

  afterAll(async () => {
    client?.destroy();
    await proxy?.stop();
    await dynamodb?.stop();
  });

  const stored = async () => ((await client.send(new ScanCommand({ TableName: 'items' }))).Items ?? []).map((item) => item.pk?.S).sort();

  it('answers them in UnprocessedItems and writes only the others; sent again, they are written', async () => {
    const first = await client.send(new BatchWriteItemCommand({ RequestItems: { items: [put('a1'), put('b1'), put('a2'), put('b2')] } }));
    expect(first.UnprocessedItems).toEqual({ items: [put('b1'), put('b2')] });
    expect(await stored()).toEqual(['a1', 'a2']);
    // Every request of a call left unprocessed: answered without reaching dynalite.
    const onlyNew = await client.send(new BatchWriteItemCommand({ RequestItems: { items: [put('b3')] } }));
    expect(onlyNew.UnprocessedItems).toEqual({ items: [put('b3')] });
    const again = await client.send(new BatchWriteItemCommand({ RequestItems: first.UnprocessedItems }));
    expect(again.UnprocessedItems ?? {}).toEqual({});
    expect(await stored()).toEqual(['a1', 'a2', 'b1', 'b2']);
    expect(proxy.stats()).toEqual({ batchWriteCalls: 3, requests: 7, leftUnprocessed: 3 });
  });
});
