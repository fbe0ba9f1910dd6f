import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { recordVersion, type Invoice } from '@invoice-pipeline/transactions';
import type { KinesisStreamBatchResponse } from 'aws-lambda';
import { kinesisEvent, lambdaContext } from '../../../test/kinesis-events';
import type { BadRecord } from '../../invoices/bad-records';
import { fakeSinks } from '../../../test/fake-sinks';
import { landInvoices, type Outcome } from '../../invoices/land-batch';
import { SinkRefusedError } from '../../invoices/sink-refusal';
import { ConfigurationError } from '@invoice-pipeline/function-config';
import { readConfig } from './config';
import type * as HandlerModule from './handler';

// The module's cold start reads this environment; the tests build their own handler with fakes.
process.env.TABLE_NAME = 'invoices';
process.env.WAREHOUSE_DELIVERY_STREAM = 'warehouse';
process.env.BAD_ROWS_BUCKET = 'archive';
process.env.AWS_REGION = 'eu-west-2';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createHandler } = require('./handler') as typeof HandlerModule;

const invoice = (invoiceNo: string, lines = 2): Invoice => ({
  invoiceNo,
  invoiceDate: '2010-12-01T08:26:00',
  customerId: '17850',
  country: 'United Kingdom',
  storeId: 'store-001',
  lines: Array.from({ length: lines }, (_, i) => ({ stockCode: `S${i}`, description: 'WHITE METAL LANTERN', quantity: 6, unitPrice: '3.39' })),
});

/** A fake of landInvoices: `land` decides each invoice's outcome (a throw: refused if SinkRefusedError, else failed). */
function harness(land: (invoice: Invoice, version: string) => Promise<{ lines: number; status: 'landed' | 'superseded' }>, beforeSetAside?: (record: BadRecord) => Promise<void>) {
  const landed: Array<{ invoiceNo: string; version: string }> = [];
  const setAside: BadRecord[] = [];
  const metrics = new Metrics({ namespace: 'test', serviceName: 'stream-processor', singleMetric: false });
  const addMetric = jest.spyOn(metrics, 'addMetric');
  const handler = createHandler({
    async land(invoices) {
      const outcomes = new Map<string, Outcome>();
      for (const { id, invoice, version } of invoices) {
        try {
          outcomes.set(id, await land(invoice, version));
          landed.push({ invoiceNo: invoice.invoiceNo, version });
        } catch (error) {
          outcomes.set(id, error instanceof SinkRefusedError ? { status: 'refused', error } : { status: 'failed', error: error as Error });
        }
      }
      return outcomes;
    },
    async setAside(record) {
      await beforeSetAside?.(record);
      setAside.push(record);
      return `bad-rows/${record.position.sequenceNumber}.json`;
    },
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics,
  });
  const run = async (datas: unknown[], firstSequence?: string) =>
    (await handler(firstSequence === undefined ? kinesisEvent(datas) : kinesisEvent(datas, BigInt(firstSequence)), lambdaContext())) as KinesisStreamBatchResponse;
  const metric = (name: string) => addMetric.mock.calls.filter(([n]) => n === name).reduce((sum, [, , value]) => sum + Number(value), 0);
  return { run, landed, setAside, metric };
}

const landAll = async (invoice: Invoice) => ({ lines: invoice.lines.length, status: 'landed' as const });

describe('processInvoices', () => {
  it('lands each valid invoice at the version of its sequence number and reports no failure', async () => {
    const { run, landed, metric } = harness(landAll);
    const event = kinesisEvent([invoice('536365'), invoice('536366', 3)]);
    const reply = await run([invoice('536365'), invoice('536366', 3)]);
    expect(reply.batchItemFailures).toEqual([]);
    expect(landed).toEqual(event.Records.map((r, i) => ({ invoiceNo: ['536365', '536366'][i], version: recordVersion(r.kinesis.sequenceNumber) })));
    expect([metric('InvoicesLanded'), metric('LinesLanded')]).toEqual([2, 5]);
  });

  it('sets aside a record that is not JSON or not an invoice, with its reason and stream position, and goes on', async () => {
    const { run, landed, setAside, metric } = harness(landAll);
    const reply = await run(['{"invoiceNo": ', { ...invoice('536367'), lines: [] }, invoice('536368')]);
    expect(reply.batchItemFailures).toEqual([]);
    expect(setAside.map((r) => r.reason)).toEqual(['not JSON', 'not a valid invoice']);
    expect(setAside[0]?.position).toMatchObject({ shardId: 'shardId-000000000000', sequenceNumber: expect.stringMatching(/^\d{56}$/) });
    expect(Buffer.from(setAside[0]?.data ?? '', 'base64').toString()).toBe('{"invoiceNo": ');
    expect(landed.map((l) => l.invoiceNo)).toEqual(['536368']);
    expect(metric('BadRecords')).toBe(2);
  });

  it('sets aside an invoice a sink refuses, with the sink\'s reason, and lands its neighbours', async () => {
    const { run, landed, setAside } = harness(async (inv) => {
      if (inv.invoiceNo === '536370') throw new SinkRefusedError('DynamoDB', [{ path: 'lines', message: 'item too large' }]);
      return landAll(inv);
    });
    const reply = await run([invoice('536369'), invoice('536370'), invoice('536371')]);
    expect(reply.batchItemFailures).toEqual([]);
    expect(setAside).toHaveLength(1);
    expect(setAside[0]?.reason).toMatch(/DynamoDB.*item too large/);
    expect(landed.map((l) => l.invoiceNo)).toEqual(['536369', '536371']);
  });

  it('reports a record whose sinks fail as a batch item failure, so Lambda retries from it', async () => {
    const { run } = harness(async (inv) => {
      if (inv.invoiceNo === '536373') throw new Error('ProvisionedThroughputExceededException');
      return landAll(inv);
    });
    const event = kinesisEvent([invoice('536372'), invoice('536373'), invoice('536374')]);
    const reply = await run([invoice('536372'), invoice('536373'), invoice('536374')]);
    expect(reply.batchItemFailures).toEqual([{ itemIdentifier: event.Records[1]?.kinesis.sequenceNumber }]);
  });

  it('two batches in flight at once (two shards, or the local runner running invocations in one process) are reported each on its own', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const fail = async (inv: Invoice) => {
      if (inv.invoiceNo === '536381' || inv.invoiceNo === '536391') throw new Error('ProvisionedThroughputExceededException');
      return landAll(inv);
    };
    // The first batch's bad record is still being set aside while the second batch runs start to finish.
    const { run } = harness(fail, (record) => (record.position.sequenceNumber.endsWith('898') ? held : Promise.resolve()));
    const first = kinesisEvent(['not json', invoice('536381')]);
    const second = kinesisEvent([invoice('536390'), invoice('536391'), invoice('536392')], 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_589_000n);
    const firstReply = run(['not json', invoice('536381')]);
    const secondDone = await run([invoice('536390'), invoice('536391'), invoice('536392')], second.Records[0]?.kinesis.sequenceNumber);
    release();
    expect(secondDone.batchItemFailures).toEqual([{ itemIdentifier: second.Records[1]?.kinesis.sequenceNumber }]);
    expect((await firstReply).batchItemFailures).toEqual([{ itemIdentifier: first.Records[1]?.kinesis.sequenceNumber }]);
  });

  it('lands only the newest of two versions of one invoice in a batch', async () => {
    const { run, landed, metric } = harness(landAll);
    const event = kinesisEvent([invoice('536375', 5), invoice('536376'), invoice('536375', 2)]);
    await run([invoice('536375', 5), invoice('536376'), invoice('536375', 2)]);
    expect(landed).toEqual(
      expect.arrayContaining([
        { invoiceNo: '536375', version: recordVersion(event.Records[2]?.kinesis.sequenceNumber as string) },
        { invoiceNo: '536376', version: recordVersion(event.Records[1]?.kinesis.sequenceNumber as string) },
      ]),
    );
    expect(landed).toHaveLength(2);
    expect(metric('InvoicesSuperseded')).toBe(1);
  });
});

describe('processInvoices over the batched sinks (landInvoices with faked clients)', () => {
  function batchedHandler(hooks: Parameters<typeof fakeSinks>[0]) {
    const fake = fakeSinks(hooks);
    const setAside: BadRecord[] = [];
    const handler = createHandler({
      land: (invoices) => landInvoices(invoices, fake.sinks),
      setAside: async (record) => (setAside.push(record), 'key'),
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'test', serviceName: 'stream-processor', singleMetric: false }),
    });
    return { fake, setAside, run: async (datas: unknown[]) => (await handler(kinesisEvent(datas), lambdaContext())) as KinesisStreamBatchResponse };
  }

  it('names in batchItemFailures exactly the records whose items DynamoDB left unprocessed or Firehose kept refusing', async () => {
    const { fake, run } = batchedHandler({
      unprocessed: (request) => (request.PutRequest?.Item.pk ?? request.DeleteRequest?.Key.pk) === 'INVOICE#536381',
      failRecord: (row) => row.includes('"invoice_no":"536383"'),
    });
    const datas = ['536380', '536381', '536382', '536383', '536384'].map((no) => invoice(no, 130));
    const event = kinesisEvent(datas);
    const reply = await run(datas);
    expect(reply.batchItemFailures).toEqual([{ itemIdentifier: event.Records[1]?.kinesis.sequenceNumber }, { itemIdentifier: event.Records[3]?.kinesis.sequenceNumber }]);
    for (const no of ['536380', '536382', '536384']) expect(fake.rowsOf(no)).toHaveLength(130);
    expect(fake.rowsOf('536381')).toEqual([]);
    expect(fake.calls.batchWrite.every((size) => size <= 25)).toBe(true);
  });

  it('sets aside a record DynamoDB refuses without failing the records written in the same call', async () => {
    const { fake, run, setAside } = batchedHandler({ refuse: (item) => item.pk === 'INVOICE#536386' && item.sk !== '#HEADER' });
    const reply = await run([invoice('536385'), invoice('536386'), invoice('536387')]);
    expect(reply.batchItemFailures).toEqual([]);
    expect(setAside.map((r) => r.reason)).toEqual([expect.stringMatching(/^refused by DynamoDB: lines: /)]);
    expect([fake.rowsOf('536385'), fake.rowsOf('536386'), fake.rowsOf('536387')]).toEqual([[1, 2], [], [1, 2]]);
  });
});

describe('processInvoices configuration', () => {
  it('names the missing variable at cold start', () => {
    expect(() => readConfig({ TABLE_NAME: 't', WAREHOUSE_DELIVERY_STREAM: 'w' })).toThrow(ConfigurationError);
    expect(() => readConfig({ TABLE_NAME: 't', WAREHOUSE_DELIVERY_STREAM: 'w' })).toThrow(/processInvoices: environment variable BAD_ROWS_BUCKET is not set/);
    expect(readConfig({ TABLE_NAME: 't', WAREHOUSE_DELIVERY_STREAM: 'w', BAD_ROWS_BUCKET: 'b' })).toEqual({ tableName: 't', warehouseDeliveryStream: 'w', badRowsBucket: 'b' });
  });
});
