import { CreateTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_CREDENTIALS, startDynamoDb } from '../src';

/**
 * A dynalite of the suite's own, on disk in a temporary folder, with a client and (optionally) one table: started
 * before the suite's tests, stopped and removed after them. `client()` is valid inside the tests.
 */
export function dynaliteForSuite(name: string, table?: CreateTableCommandInput): { client: () => DynamoDBClient } {
  let dir: string | undefined;
  let server: Awaited<ReturnType<typeof startDynamoDb>> | undefined;
  let client: DynamoDBClient | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `dynalite-${name}-`));
    server = await startDynamoDb({ port: 0, dataDir: dir });
    client = new DynamoDBClient({ endpoint: server.endpoint, region: 'eu-west-2', credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    if (table) await client.send(new CreateTableCommand(table));
  });
  afterAll(async () => {
    client?.destroy();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    client: () => {
      if (!client) throw new Error('the suite dynalite is not started yet');
      return client;
    },
  };
}
