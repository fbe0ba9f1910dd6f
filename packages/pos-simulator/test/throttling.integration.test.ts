import { countBadRecords, readArchiveTotals, readDynamoDbTotals, readStreamTotals, readWarehouseTotals, type LocalPipeline } from '@invoice-pipeline/local-stack';
import { startThrottlingTestPipeline, type KinesisFaultProxy } from '@invoice-pipeline/local-stack/testing';
import { BUNDLED_SAMPLES, summariseSource } from '@invoice-pipeline/transactions/files';
import { isComplete, replay, type ReplaySummary } from '../src';

/**
 * Kinesis throttling on ingest, on the whole local pipeline: the stream refuses puts (ProvisionedThroughputExceeded,
 * whole calls and single records, through a fault proxy in front of kinesalite, which never throttles by itself).
 * Ingest retries what it can within its time budget, then answers 503 with Retry-After; the POS simulator (`pnpm
 * replay`'s code) waits and resends; every line lands once in DynamoDB and the warehouse, the stream and the raw archive
 * hold every invoice (a resent batch is there twice: at least once, by design), nothing is set aside.
 */
const SAMPLE = BUNDLED_SAMPLES.kaggleHead;

describe('Kinesis throttling on ingest', () => {
  let pipeline: LocalPipeline & { dir: string; kinesisFaults: KinesisFaultProxy };
  let summary: ReplaySummary;
  const replies: Array<{ status: number; retryAfter: string | null; message?: string }> = [];

  beforeAll(async () => {
    pipeline = await startThrottlingTestPipeline();
    // Request 1: a partial failure (every other record throttled, the rest written), then whole calls refused until
    // ingest's retries run out: 503, although half its records are in the stream. Its resend: refused again until 503.
    // The third try meets per-record throttling only, which ingest retries record by record until all are in.
    pipeline.kinesisFaults.throttle(
      { kind: 'throttleRecords', calls: 1 },
      { kind: 'refuseCalls', calls: 5 },
      { kind: 'refuseCalls', calls: 6 },
      { kind: 'throttleRecords', calls: 10 },
    );
    const recordingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const copy = response.clone();
      const body = (await copy.json().catch(() => ({}))) as { message?: string };
      replies.push({ status: response.status, retryAfter: response.headers.get('retry-after'), message: body.message });
      return response;
    };
    const stores = Object.keys(pipeline.api.storeKeys).length;
    summary = await replay({ url: pipeline.api.url, apiKey: pipeline.api.key, source: SAMPLE, stores, batchSize: 10, concurrency: 1, fetch: recordingFetch });
    await pipeline.settle();
  }, 600_000);

  afterAll(async () => {
    await pipeline?.stop();
  }, 120_000);

  it('ingest answers 503 with Retry-After while the stream refuses, and the simulator waits and resends', () => {
    const unavailable = replies.filter((reply) => reply.status === 503);
    expect(unavailable).toHaveLength(2);
    for (const reply of unavailable) {
      expect(reply.retryAfter).toBe('2');
      expect(reply.message).toMatch(/stream is busy.*Retry-After.*safe/);
    }
    expect(replies.slice(0, 3).map((reply) => reply.status)).toEqual([503, 503, 202]);
    expect(summary.retried).toBe(2);
    expect(pipeline.kinesisFaults.pending()).toEqual([]);
    expect(pipeline.kinesisFaults.stats()).toMatchObject({ refusedCalls: 11 });
    expect(pipeline.kinesisFaults.stats().throttledRecords).toBeGreaterThan(0);
  });

  it('accepts every invoice of the source in the end', async () => {
    const reference = await summariseSource(SAMPLE);
    expect(isComplete(summary)).toBe(true);
    expect(summary).toMatchObject({ rows: reference.rows, badRows: 0, unaccounted: 0, failed: { invoices: 0 }, rejected: { invoices: 0 } });
    expect(summary.totals).toEqual(reference.totals);
  });

  it('loses nothing and doubles nothing: DynamoDB and the warehouse hold each line once; stream and archive hold every invoice', async () => {
    const expected = summary.totals;
    const outputs = pipeline.stack.endpoints.outputs;
    const dynamodb = await readDynamoDbTotals(pipeline.stack.clients.dynamodb, outputs['stream-processor']?.TableName as string);
    expect({ ...dynamodb, records: undefined }).toEqual({ ...expected, records: undefined });
    expect(dynamodb.records).toBe(expected.invoices);
    const warehouse = await readWarehouseTotals(pipeline.stack.warehouse);
    expect(warehouse).toEqual({ ...expected, staged: 0 });

    // The first request's written half went in twice (before its 503, and with the resend): the stream and the raw
    // archive keep every record as delivered, the keyed sinks above collapse them.
    const stream = await readStreamTotals(pipeline.stack.clients.kinesis, outputs.ingest?.StreamName as string);
    expect({ invoices: stream.invoices, lines: stream.lines, revenue: stream.revenue, byType: stream.byType }).toEqual(expected);
    expect(stream.records).toBeGreaterThan(expected.invoices);
    expect(stream.duplicateLines).toBeGreaterThan(0);
    const archive = await readArchiveTotals(pipeline.stack.clients.s3, outputs['stream-processor']?.ArchiveBucketName as string);
    expect({ invoices: archive.invoices, lines: archive.lines, revenue: archive.revenue, byType: archive.byType }).toEqual(expected);
    expect(archive.records).toBe(stream.records);

    expect(pipeline.failedBatches).toEqual([]);
    expect(await countBadRecords(pipeline.stack.clients.s3, outputs['stream-processor']?.ArchiveBucketName as string)).toBe(0);
  });
});
