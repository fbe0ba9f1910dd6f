import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateTableCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_CREDENTIALS, startDynamoDb, type RunningServer } from '../src';

/**
 * dynalite is patched (patches/dynalite@4.0.0.patch) to keep table descriptions in memory instead of reading one from
 * LevelDB on every request. These are the cases a stale description would get wrong: each change to a table is seen by
 * the very next request.
 */
describe('dynalite table descriptions, kept in memory', () => {
  let dir: string;
  let server: RunningServer;
  let client: DynamoDBClient;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dynalite-tables-'));
    server = await startDynamoDb({ port: 0, dataDir: dir });
    client = new DynamoDBClient({ endpoint: server.endpoint, region: 'eu-west-2', credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  });

  afterAll(async () => {
    client?.destroy();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const table = (input: Omit<CreateTableCommandInput, 'TableName' | 'BillingMode'>): CreateTableCommandInput => ({ TableName: 'described', BillingMode: 'PAY_PER_REQUEST', ...input });
  const status = () => client.send(new DescribeTableCommand({ TableName: 'described' })).then((reply) => reply.Table, (error: Error) => error.name);
  async function until(check: (described: Awaited<ReturnType<typeof status>>) => boolean): Promise<void> {
    for (let tries = 0; !check(await status()); tries += 1) {
      if (tries > 100) throw new Error(`the table never reached the expected state: ${JSON.stringify(await status())}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  const put = (item: Record<string, string>, condition?: string) =>
    client.send(new PutItemCommand({ TableName: 'described', Item: Object.fromEntries(Object.entries(item).map(([name, value]) => [name, { S: value }])), ConditionExpression: condition }));

  it('never answers from a stale description: a table updated, deleted, then created again with another key', async () => {
    await client.send(new CreateTableCommand(table({ AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] })));
    await until((described) => typeof described === 'object' && described.TableStatus === 'ACTIVE');
    // Conditional puts still hold: the second put of one key on attribute_not_exists fails.
    await put({ pk: 'a' }, 'attribute_not_exists(pk)');
    await expect(put({ pk: 'a' }, 'attribute_not_exists(pk)')).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });

    await client.send(new UpdateTableCommand({ TableName: 'described', BillingMode: 'PROVISIONED', ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 7 } }));
    await until((described) => typeof described === 'object' && described.ProvisionedThroughput?.WriteCapacityUnits === 7 && described.TableStatus === 'ACTIVE');
    await put({ pk: 'b' }, 'attribute_not_exists(pk)');

    await client.send(new DeleteTableCommand({ TableName: 'described' }));
    await until((described) => described === 'ResourceNotFoundException');
    await expect(put({ pk: 'c' })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });

    await client.send(new CreateTableCommand(table({ AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }] })));
    await until((described) => typeof described === 'object' && described.TableStatus === 'ACTIVE');
    await expect(put({ pk: 'a' })).rejects.toMatchObject({ name: 'ValidationException' });
    await put({ id: '1' }, 'attribute_not_exists(id)');
  }, 60_000);
});
