import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { FREE_PORTS, startStack, type StackOptions } from './stack';

/** `.local/` keeps every emulator's data between runs; `fresh` starts empty. */
describe('a stack restarted on the same folder', () => {
  let dir: string;
  const options = (): StackOptions => ({ dir, ports: FREE_PORTS });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stack-restart-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('finds its data again, and provisioning over existing resources is a no-op', async () => {
    const first = await startStack({ ...options(), fresh: true });
    const table = first.endpoints.outputs['stream-processor']?.TableName as string;
    const bucket = first.endpoints.outputs['stream-processor']?.ArchiveBucketName as string;
    try {
      await first.clients.dynamodb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'INVOICE#1' }, sk: { S: '#HEADER' } } }));
      await first.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kept.txt', Body: 'kept' }));
      await first.warehouse.query(`INSERT INTO invoice_lines_staging (invoice_no, line_no, invoice_type, invoice_date, country, store_id, stock_code, quantity, unit_price, line_total)
        VALUES ('1', 1, 'sale', '2010-12-01T08:26:00', 'United Kingdom', 'online', 'POST', 1, '18', '18')`);
    } finally {
      await first.stop();
    }

    const second = await startStack(options());
    try {
      const { Item } = await second.clients.dynamodb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'INVOICE#1' }, sk: { S: '#HEADER' } } }));
      expect(Item?.pk?.S).toBe('INVOICE#1');
      const object = await second.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kept.txt' }));
      expect(await object.Body?.transformToString()).toBe('kept');
      expect(await second.warehouse.query('SELECT count(*)::int AS n FROM invoice_lines_staging')).toEqual([{ n: 1 }]);
      const { StreamNames } = await second.clients.kinesis.send(new ListStreamsCommand({}));
      expect(StreamNames).toEqual([second.endpoints.outputs.ingest?.StreamName]);
    } finally {
      await second.stop();
    }

    const fresh = await startStack({ ...options(), fresh: true });
    try {
      const { Item } = await fresh.clients.dynamodb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'INVOICE#1' }, sk: { S: '#HEADER' } } }));
      expect(Item).toBeUndefined();
    } finally {
      await fresh.stop();
    }
  }, 180_000);
});
