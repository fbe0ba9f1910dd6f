import type { Invoice } from '@invoice-pipeline/transactions';
import { awsError, FakeKinesis, throttled } from '../../../test/fake-kinesis';
import { sampleInvoices } from '../../../test/invoices';
import {
  chunkForPutRecords,
  KINESIS_LIMITS,
  putInvoices,
  RecordTooLargeError,
  StreamUnavailableError,
  StreamWriteError,
  type InvoiceRecord,
  type PutInvoicesDependencies,
} from './put-invoices';

const RETRY = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1_000 };

function deps(kinesis: FakeKinesis, overrides: Partial<PutInvoicesDependencies> = {}) {
  const sleeps: number[] = [];
  const dependencies: PutInvoicesDependencies = {
    kinesis,
    streamName: 'invoices',
    retry: RETRY,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 1,
    ...overrides,
  };
  return { dependencies, sleeps };
}

let invoices: Invoice[];
beforeAll(async () => {
  invoices = await sampleInvoices(12);
});

describe('putInvoices', () => {
  it('puts one record per invoice, keyed by invoice number, holding the invoice as sent', async () => {
    const kinesis = new FakeKinesis();
    const { accepted, retriedRecords, calls } = await putInvoices(invoices, deps(kinesis).dependencies);

    expect(calls).toBe(1);
    expect(retriedRecords).toBe(0);
    expect(kinesis.calls[0]?.streamName).toBe('invoices');
    expect(kinesis.stored.map((record) => record.partitionKey)).toEqual(invoices.map((invoice) => invoice.invoiceNo));
    expect(kinesis.stored.map((record) => JSON.parse(record.data))).toEqual(invoices);
    expect(accepted).toEqual(
      invoices.map((invoice, index) => ({
        invoiceNo: invoice.invoiceNo,
        lines: invoice.lines.length,
        shardId: kinesis.stored[index]?.shardId,
        sequenceNumber: kinesis.stored[index]?.sequenceNumber,
      })),
    );
  });

  it('retries only the records that failed (FailedRecordCount > 0), with growing jittered waits, until all are in', async () => {
    const unlucky = new Set([invoices[2]?.invoiceNo, invoices[7]?.invoiceNo]);
    // The two unlucky records are throttled on calls 1 and 2, then stored on call 3.
    const kinesis = new FakeKinesis({ record: (key, call) => (unlucky.has(key) && call < 3 ? throttled : 'ok') });
    const { dependencies, sleeps } = deps(kinesis);
    const { accepted, retriedRecords, calls } = await putInvoices(invoices, dependencies);

    expect(calls).toBe(3);
    expect(kinesis.calls[1]?.partitionKeys).toEqual([...unlucky]);
    expect(kinesis.calls[2]?.partitionKeys).toEqual([...unlucky]);
    expect(retriedRecords).toBe(4);
    expect(sleeps).toEqual([100, 200]);
    // Every invoice is in the stream exactly once and the reply keeps request order.
    expect(kinesis.stored.map((record) => record.partitionKey).sort()).toEqual(invoices.map((invoice) => invoice.invoiceNo).sort());
    expect(accepted.map((entry) => entry.invoiceNo)).toEqual(invoices.map((invoice) => invoice.invoiceNo));
    for (const entry of accepted) {
      expect(kinesis.stored.find((record) => record.partitionKey === entry.invoiceNo)?.sequenceNumber).toBe(entry.sequenceNumber);
    }
  });

  it('waits a random part of the exponential ceiling (full jitter), capped', async () => {
    const kinesis = new FakeKinesis({ record: () => throttled });
    const { dependencies, sleeps } = deps(kinesis, { retry: { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 500 }, random: () => 0.5 });
    await expect(putInvoices(invoices.slice(0, 1), dependencies)).rejects.toBeInstanceOf(StreamUnavailableError);
    expect(sleeps).toEqual([50, 100, 200, 250, 250]);
  });

  it('gives up with StreamUnavailableError when records stay throttled through every attempt', async () => {
    const kinesis = new FakeKinesis({ record: (key) => (key === invoices[0]?.invoiceNo ? throttled : 'ok') });
    const { dependencies, sleeps } = deps(kinesis);
    const error = await putInvoices(invoices, dependencies).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(StreamUnavailableError);
    expect(error).toMatchObject({ failedRecords: 1, attempts: RETRY.maxAttempts, errorCode: 'ProvisionedThroughputExceededException' });
    expect(kinesis.calls).toHaveLength(RETRY.maxAttempts);
    expect(sleeps).toHaveLength(RETRY.maxAttempts - 1);
  });

  it('stops retrying when the next wait would pass the deadline', async () => {
    const kinesis = new FakeKinesis({ record: () => throttled });
    let clock = 1_000;
    const { dependencies } = deps(kinesis, {
      deadline: 1_250,
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
      },
    });
    // Waits of 100 then 200 ms: the second would end at 1_300, past the deadline.
    await expect(putInvoices(invoices.slice(0, 2), dependencies)).rejects.toMatchObject({ name: 'StreamUnavailableError', attempts: 2 });
    expect(kinesis.calls).toHaveLength(2);
  });

  it.each([
    ['a throttled call', awsError('ProvisionedThroughputExceededException')],
    ['a Kinesis 5xx', awsError('InternalFailure', 500)],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4567'), { code: 'ECONNREFUSED' })],
  ])('retries the whole call after %s', async (_, failure) => {
    const kinesis = new FakeKinesis({ call: (call) => (call === 1 ? failure : undefined) });
    const { accepted, retriedRecords } = await putInvoices(invoices, deps(kinesis).dependencies);
    expect(accepted).toHaveLength(invoices.length);
    expect(retriedRecords).toBe(invoices.length);
    expect(kinesis.stored).toHaveLength(invoices.length);
  });

  it('does not retry what retrying cannot fix', async () => {
    const missingStream = new FakeKinesis({ call: () => awsError('ResourceNotFoundException') });
    await expect(putInvoices(invoices, deps(missingStream).dependencies)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(missingStream.calls).toHaveLength(1);

    const keyDenied = new FakeKinesis({ record: () => ({ errorCode: 'KMSAccessDeniedException' }) });
    await expect(putInvoices(invoices, deps(keyDenied).dependencies)).rejects.toBeInstanceOf(StreamWriteError);
    expect(keyDenied.calls).toHaveLength(1);
  });

  it('refuses an invoice over the record size limit before writing anything', async () => {
    const [first = invoices[0] as Invoice] = invoices;
    const line = { stockCode: 'BIG', description: 'x'.repeat(500), quantity: 1, unitPrice: '1' };
    const huge: Invoice = { ...first, invoiceNo: '999999', lines: Array.from({ length: 2_500 }, () => line) };
    const kinesis = new FakeKinesis();
    const error = await putInvoices([first, huge], deps(kinesis).dependencies).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(RecordTooLargeError);
    expect((error as RecordTooLargeError).oversized).toEqual([{ index: 1, invoiceNo: '999999', bytes: expect.any(Number) }]);
    expect((error as RecordTooLargeError).oversized[0]?.bytes).toBeGreaterThan(KINESIS_LIMITS.maxRecordBytes);
    expect(kinesis.calls).toHaveLength(0);
  });

  it('splits a batch over several calls when it passes 5 MiB', async () => {
    const [first = invoices[0] as Invoice] = invoices;
    const line = { stockCode: 'BIG', description: 'x'.repeat(500), quantity: 1, unitPrice: '1' };
    // 12 invoices of about 0.8 MB: 6 fit in a call.
    const big = Array.from({ length: 12 }, (_, index): Invoice => ({ ...first, invoiceNo: String(700_000 + index), lines: Array.from({ length: 1_500 }, () => line) }));
    const kinesis = new FakeKinesis();
    const { accepted, calls } = await putInvoices(big, deps(kinesis).dependencies);
    expect(calls).toBe(2);
    expect(kinesis.calls.map((call) => call.partitionKeys.length)).toEqual([6, 6]);
    expect(accepted).toHaveLength(12);
  });
});

describe('chunkForPutRecords', () => {
  const record = (bytes: number): InvoiceRecord => ({ invoiceNo: '1', lines: 1, data: new Uint8Array(), bytes });

  it('keeps at most 500 records per call, in order', () => {
    const records = Array.from({ length: 1_201 }, () => record(100));
    const chunks = chunkForPutRecords(records.map((_, index) => index), records);
    expect(chunks.map((chunk) => chunk.length)).toEqual([500, 500, 201]);
    expect(chunks.flat()).toEqual(records.map((_, index) => index));
  });

  it('keeps at most 5 MiB per call', () => {
    const records = [record(3 * 1024 * 1024), record(2 * 1024 * 1024), record(1)];
    expect(chunkForPutRecords([0, 1, 2], records)).toEqual([[0, 1], [2]]);
    expect(chunkForPutRecords([2, 0, 1], records)).toEqual([[2, 0], [1]]);
  });
});
