import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The SDK patch (patches/@smithy__core@3.41.0.patch) decodes an all-ASCII JSON reply as Latin-1, which is fast: any
 * other reply must still be read as UTF-8. A server of our own answers with fixed bytes.
 */
describe('the SDK reads JSON replies as UTF-8 (patched to take the Latin-1 shortcut for ASCII only)', () => {
  let server: Server;
  let reply = Buffer.alloc(0);
  let client: DynamoDBClient;

  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'content-length': reply.length }).end(reply);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    client = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'eu-west-2',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler(),
    });
  });

  afterAll(async () => {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it.each([
    ['plain ASCII', 'WHITE HANGING HEART T-LIGHT HOLDER'],
    ['Latin-1 letters', 'CAFÉ CRÈME MUG, £2.55'],
    ['characters beyond Latin-1', 'Ā 一 ハート €5 🎄'],
  ])('a reply of %s is decoded as UTF-8', async (_what, text) => {
    reply = Buffer.from(JSON.stringify({ Item: { description: { S: text } } }), 'utf8');
    const { Item } = await client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'k' } } }));
    expect(Item?.description?.S).toBe(text);
  });
});
