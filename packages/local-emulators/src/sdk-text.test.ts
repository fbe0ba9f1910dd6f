import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The SDK patch (patches/@smithy__core@3.41.0.patch) decodes an all-ASCII JSON reply as Latin-1, which is fast: any
 * other reply must still be read as UTF-8; and it writes blobs as base64 with Node's encoder instead of a byte loop.
 * A server of our own answers with fixed bytes and keeps the last request body.
 */
describe('the patched SDK: JSON replies read as UTF-8 (Latin-1 shortcut for ASCII only), blobs written as their base64', () => {
  let server: Server;
  let reply = Buffer.alloc(0);
  let requestBody = Buffer.alloc(0);
  let client: DynamoDBClient;
  let firehose: FirehoseClient;

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        requestBody = Buffer.concat(chunks);
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'content-length': reply.length }).end(reply);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const settings = {
      endpoint: `http://127.0.0.1:${port}`,
      region: 'eu-west-2',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler(),
    };
    client = new DynamoDBClient(settings);
    firehose = new FirehoseClient(settings);
  });

  afterAll(async () => {
    client.destroy();
    firehose.destroy();
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

  it('writes blobs as the base64 of exactly their bytes, whatever their length and wherever they sit in memory', async () => {
    reply = Buffer.from(JSON.stringify({ FailedPutCount: 0, RequestResponses: [] }));
    const backing = Buffer.from('..WHITE HANGING HEART, £2.55 ✓\n\u0000\u00ff..', 'utf8');
    const blobs = [
      new Uint8Array(0),
      Buffer.from('a'),
      Buffer.from('ab'),
      Buffer.from('abc'),
      Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x3e, 0x3f]),
      // A view into a larger buffer: only its own bytes, from its own offset.
      backing.subarray(2, backing.length - 2),
      new Uint8Array(backing.buffer, backing.byteOffset + 3, 7),
    ];
    await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: 's', Records: blobs.map((Data) => ({ Data })) }));
    const sent = JSON.parse(requestBody.toString('utf8')) as { Records: Array<{ Data: string }> };
    expect(sent.Records.map((record) => record.Data)).toEqual(blobs.map((blob) => Buffer.from(blob).toString('base64')));
  });
});
