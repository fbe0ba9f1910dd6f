import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDynamoDb, type RunningServer } from '../src';

/**
 * dynalite checks the JSON type of every member of a request, attribute values included, before anything else; our
 * patch makes that check's functions once and keeps each type's parse (patches/dynalite@4.0.0.patch). These are raw
 * requests, since an SDK never sends a wrongly typed member: each answer is the one unpatched dynalite 4.0.0 gives.
 */
describe('dynalite type checks', () => {
  let dir: string;
  let server: RunningServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dynalite-types-'));
    server = await startDynamoDb({ port: 0, dataDir: dir });
    await send('CreateTable', {
      TableName: 'typed',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    });
  });

  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function send(action: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const reply = await fetch(server.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDB_20120810.${action}`,
        authorization: 'AWS4-HMAC-SHA256 Credential=local/20261207/eu-west-2/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
        'x-amz-date': '20261207T000000Z',
      },
      body: JSON.stringify(body),
    });
    return { status: reply.status, body: (await reply.json()) as Record<string, unknown> };
  }
  const put = (item: unknown) => send('PutItem', { TableName: 'typed', Item: item });
  const serialization = (message: string) => ({ status: 400, body: { __type: 'com.amazon.coral.service#SerializationException', Message: message } });

  it.each([
    ['a number where a string goes', { pk: { S: 1 } }, 'NUMBER_VALUE cannot be converted to String'],
    ['a decimal where a string goes', { pk: { S: 'a' }, n: { N: 1.5 } }, 'DECIMAL_VALUE cannot be converted to String'],
    ['a list where a string goes', { pk: { S: ['a'] } }, 'Unrecognized collection type class java.lang.String'],
    ['an object where a boolean goes', { pk: { S: 'a' }, b: { BOOL: {} } }, 'Start of structure or map found where not expected'],
    ['a word that is no boolean', { pk: { S: 'a' }, b: { BOOL: 'maybe' } }, 'Unexpected token received from parser'],
    ['a string where a list goes', { pk: { S: 'a' }, l: { L: 'x' } }, 'Unexpected field type'],
    ['a list where a map goes, nested', { pk: { S: 'a' }, l: { L: [{ M: [] }] } }, 'Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>'],
    ['a string where an attribute value goes', { pk: { S: 'a' }, v: 'x' }, 'Unexpected value type in payload'],
    ['a list where an attribute value goes, in a map', { pk: { S: 'a' }, m: { M: { inner: [] } } }, 'Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue'],
    ['a blob that is no base64', { pk: { S: 'a' }, b: { B: 'abc' } }, 'Base64 encoded length is expected a multiple of 4 bytes but found: 3'],
  ])('%s: a SerializationException naming it', async (_case, item, message) => {
    expect(await put(item)).toEqual(serialization(message));
  });

  it('well typed values of every kind, nested, are stored as sent (numbers normalised and "yes" as a boolean true, as in DynamoDB)', async () => {
    const item = {
      pk: { S: 'kinds' },
      n: { N: '1.50' },
      b: { B: 'AAEC' },
      t: { BOOL: 'yes' },
      z: { NULL: true },
      ss: { SS: ['a', 'b'] },
      ns: { NS: ['1', '2'] },
      bs: { BS: ['AA=='] },
      lines: { L: [{ M: { lineNo: { N: '1' }, tags: { L: [{ S: 'x' }, { NULL: true }] } } }, { S: 'loose' }] },
    };
    expect((await put(item)).status).toBe(200);
    const { body } = await send('GetItem', { TableName: 'typed', Key: { pk: { S: 'kinds' } } });
    expect(body.Item).toEqual({ ...item, n: { N: '1.5' }, t: { BOOL: true } });
  });
});
