import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { startTestKinesis, startTestS3, type TestKinesis, type TestS3 } from '../src/testing';

describe('the npm emulators through the shared client settings', () => {
  let kinesis: TestKinesis;
  let s3: TestS3;

  beforeAll(async () => {
    [kinesis, s3] = await Promise.all([startTestKinesis(), startTestS3(['bucket-1'])]);
  }, 30_000);

  afterAll(async () => {
    await Promise.all([kinesis?.stop(), s3?.stop()]);
  });

  it('kinesalite over HTTP/1.1: a stream is created and its records read back in order', async () => {
    const arn = await kinesis.createStream('invoices', 2);
    expect(arn).toMatch(/^arn:aws:kinesis:[\w-]+:\d+:stream\/invoices$/);
    for (const [key, data] of [['536365', 'a'], ['536366', 'b']] as const) {
      await kinesis.client.send(new PutRecordCommand({ StreamName: 'invoices', PartitionKey: key, Data: Buffer.from(data) }));
    }
    const records = await kinesis.readAll('invoices');
    expect(records.map((r) => [r.partitionKey, r.data]).sort()).toEqual([['536365', 'a'], ['536366', 'b']]);
  });

  it('s3rver, path style, checksums only when required: a streamed upload is stored without chunk framing', async () => {
    const body = 'invoice,line\n536365,1\n';
    await s3.client.send(new PutObjectCommand({ Bucket: 'bucket-1', Key: 'raw/a.csv', Body: Buffer.from(body) }));
    expect(await s3.keys('bucket-1', 'raw/')).toEqual(['raw/a.csv']);
    expect((await s3.read('bucket-1', 'raw/a.csv')).toString()).toBe(body);
  });
  it('s3rver survives a delete racing a put into the same prefix (the loader moving the last file of an hour while Firehose writes the next)', async () => {
    // Unpatched, s3rver removed a prefix's folder once its last object was deleted; a put into that prefix between its
    // mkdir and its open then failed with an unhandled ENOENT, which ended the emulator's process (patches/s3rver@3.7.1.patch).
    const put = (key: string) => s3.client.send(new PutObjectCommand({ Bucket: 'bucket-1', Key: key, Body: Buffer.from(key) }));
    const written: string[] = [];
    for (let round = 0; round < 150; round += 1) {
      const prefix = `warehouse/2026/12/06/${round}/`;
      await put(`${prefix}a.gz`);
      const next = `${prefix}b-${round}.gz`;
      await Promise.all([s3.client.send(new DeleteObjectCommand({ Bucket: 'bucket-1', Key: `${prefix}a.gz` })), put(next)]);
      written.push(next);
    }
    expect(await s3.keys('bucket-1', 'warehouse/')).toEqual([...written].sort());
  }, 60_000);
  it('s3rver shows an object only once its upload is complete: a listing mid-upload neither finds it nor fixes a partial ETag', async () => {
    // Unpatched, s3rver wrote the object file as the body arrived: a listing mid-upload found the key, hashed the bytes
    // written so far into the object's .md5 file and reported that ETag (the dumps trigger then saw one upload as two
    // objects and started two loads of it), and a GET could read a truncated body.
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const body = new PassThrough();
    const upload = s3.client.send(new PutObjectCommand({ Bucket: 'bucket-1', Key: 'incoming/slow.csv', Body: body, ContentLength: chunk.length * 4 }));
    const listed: string[] = [];
    // Three of four parts sent, each followed by a listing; the fourth completes the upload.
    for (let part = 0; part < 3; part += 1) {
      body.write(chunk);
      await new Promise((resolve) => setTimeout(resolve, 150));
      const page = await s3.client.send(new ListObjectsV2Command({ Bucket: 'bucket-1', Prefix: 'incoming/' }));
      listed.push(...(page.Contents ?? []).map((object) => `${object.Key} ${object.ETag}`));
    }
    body.end(chunk);
    await upload;
    expect(listed).toEqual([]);
    const md5 = createHash('md5').update(Buffer.concat([chunk, chunk, chunk, chunk])).digest('hex');
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: 'bucket-1', Key: 'incoming/slow.csv' }));
    expect([head.ETag, head.ContentLength]).toEqual([`"${md5}"`, chunk.length * 4]);
    expect((await s3.read('bucket-1', 'incoming/slow.csv')).length).toBe(chunk.length * 4);
  }, 30_000);
});
