import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_CREDENTIALS } from './endpoints';
import { startSupervisedEmulator } from './supervisor';

describe('a supervised emulator', () => {
  it('is reported and started again on the same port with its data when its process dies; the caller goes on', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'supervised-'));
    const messages: string[] = [];
    const dynamodb = await startSupervisedEmulator('dynamodb', { port: 0, dataDir, log: (m) => messages.push(m) });
    const client = new DynamoDBClient({ endpoint: dynamodb.endpoint, region: 'eu-west-2', credentials: LOCAL_CREDENTIALS, maxAttempts: 10 });
    try {
      await client.send(
        new CreateTableCommand({ TableName: 'supervised', BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] }),
      );
      await client.send(new PutItemCommand({ TableName: 'supervised', Item: { pk: { S: 'before' } } }));
      const first = dynamodb.pid();
      process.kill(first as number, 'SIGKILL'); // as an uncaught exception inside dynalite would end its process
      const deadline = Date.now() + 30_000;
      while (!messages.some((m) => m.includes('restarted')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(messages[0]).toMatch(/dynamodb emulator died \(SIGKILL\); restarting it on port \d+ \(restart 1\)/);
      expect(messages).toContain(`dynamodb emulator restarted on port ${dynamodb.port}`);
      expect(dynamodb.pid()).not.toBe(first);
      expect(dynamodb.restarts()).toBe(1);
      // Same endpoint, same data, and it takes writes again.
      await client.send(new PutItemCommand({ TableName: 'supervised', Item: { pk: { S: 'after' } } }));
      for (const pk of ['before', 'after']) expect((await client.send(new GetItemCommand({ TableName: 'supervised', Key: { pk: { S: pk } } }))).Item).toEqual({ pk: { S: pk } });
    } finally {
      client.destroy();
      await dynamodb.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
  it('lets Ctrl-C pass: an interrupt (which a terminal sends to every process of the group) neither ends nor restarts it; the parent stops it in order', async () => {
    const messages: string[] = [];
    const dynamodb = await startSupervisedEmulator('dynamodb', { port: 0, log: (m) => messages.push(m) });
    const client = new DynamoDBClient({ endpoint: dynamodb.endpoint, region: 'eu-west-2', credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    try {
      const pid = dynamodb.pid();
      process.kill(pid as number, 'SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(messages).toEqual([]);
      expect(dynamodb.pid()).toBe(pid);
      expect(dynamodb.restarts()).toBe(0);
      await client.send(
        new CreateTableCommand({ TableName: 'interrupted', BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] }),
      );
    } finally {
      client.destroy();
      await dynamodb.stop();
    }
  }, 60_000);
});
