import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BUNDLED_SAMPLES, summariseSource, type SourceSummary } from '@invoice-pipeline/transactions/files';
import { FakeApi } from './fake-api';
import { replayInWorker } from '../src/replay-in-worker';

const SAMPLE = BUNDLED_SAMPLES.kaggleHead;

describe('replayInWorker', () => {
  let reference: SourceSummary;
  let api: FakeApi;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    reference = await summariseSource(SAMPLE);
  });

  beforeEach(async () => {
    api = new FakeApi({ apiKey: 'key' });
    // The fake API behind a real socket: the worker thread posts over HTTP as the replay does.
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        void api.fetch(`http://api.test${request.url}`, { method: request.method, headers: request.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8') }).then(async (reply) => {
          response.writeHead(reply.status, { 'content-type': 'application/json' });
          response.end(await reply.text());
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('replays on another thread and answers with the summary replay() gives, its progress heard on this one', async () => {
    const progress: number[] = [];
    const { summary, union } = await replayInWorker({ url, apiKey: 'key', source: SAMPLE, stores: 3, batchSize: 25 }, { onProgress: (state) => progress.push(state.accepted.invoices) });
    expect(progress.length).toBeGreaterThan(0);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBeLessThanOrEqual(reference.totals.invoices);
    expect(summary).toMatchObject({ rows: 1_071, badRows: 0, unaccounted: 0, requests: api.requests.length });
    expect(summary.totals).toEqual(reference.totals);
    expect(api.accepted).toHaveLength(reference.totals.invoices);
    expect(union).toBeUndefined();
  });

  it('with union: every line read once per (invoiceNo, lineNo), then each dump, whose lines the replay also sent count as repeated', async () => {
    const { summary, union } = await replayInWorker({ url, apiKey: 'key', source: SAMPLE, stores: 2, batchSize: 50 }, { union: { dumps: [SAMPLE] } });
    expect(summary.totals).toEqual(reference.totals);
    expect(union).toEqual({ totals: reference.totals, repeated: reference.totals.lines, dumps: [reference.totals] });
  });

  it('a replay that cannot start rejects with its reason', async () => {
    await expect(replayInWorker({ url, apiKey: 'key', source: SAMPLE, batchSize: 501 })).rejects.toThrow('replay: batch size must be 1-500');
  });
});
