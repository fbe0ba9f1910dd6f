import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { forwardRequest, listen, readBody } from '@invoice-pipeline/local-emulators';

/**
 * A Kinesis that throttles, for tests (kinesalite never does): an HTTP proxy in front of the local stream that answers
 * PutRecords as Kinesis does when a shard's write limit is exceeded, and passes everything else through.
 *
 * - `refuseCalls`: the whole call fails with HTTP 400 `ProvisionedThroughputExceededException`; nothing is written.
 * - `throttleRecords`: a partial failure: every other record of the call (the 2nd, 4th, ...) gets
 *   `ErrorCode: ProvisionedThroughputExceededException` and is not written; the others are written (forwarded), and
 *   `FailedRecordCount` says how many failed, as Kinesis answers with HTTP 200.
 *
 * Rules apply to the next PutRecords calls in the order given, each for its number of calls. `trimBefore` emulates the
 * stream's retention for readers.
 */
export interface KinesisThrottleRule {
  kind: 'refuseCalls' | 'throttleRecords';
  calls: number;
}

export interface KinesisFaultStats {
  /** PutRecords calls received. */
  putCalls: number;
  /** Calls refused whole. */
  refusedCalls: number;
  /** Records answered with ProvisionedThroughputExceededException (refused calls' records included). */
  throttledRecords: number;
  /** Records passed on to the stream. */
  forwardedRecords: number;
}

export interface KinesisFaultProxy {
  /** The endpoint to give a client instead of the stream's (AWS_ENDPOINT_URL_KINESIS). */
  readonly url: string;
  /** Where requests go; set once the stream's emulator is up. */
  target: string | undefined;
  throttle(...rules: KinesisThrottleRule[]): void;
  /**
   * Emulates the stream's retention having removed a shard's records before `sequenceNumber` (kinesalite keeps
   * everything): an iterator asked for at or after an older sequence number, or at TRIM_HORIZON, starts at the first
   * record kept, as Kinesis starts reads at the trim horizon.
   */
  trimBefore(shardId: string, sequenceNumber: string): void;
  /** Rules not used up yet. */
  pending(): KinesisThrottleRule[];
  stats(): KinesisFaultStats;
  stop(): Promise<void>;
}

interface PutRecordsRequest {
  StreamName?: string;
  Records: unknown[];
}
interface PutRecordsEntry {
  SequenceNumber?: string;
  ShardId?: string;
  ErrorCode?: string;
  ErrorMessage?: string;
}

const JSON_TYPE = 'application/x-amz-json-1.1';

/** Sends a request on to the stream (its method, path and headers) with this body. */
const forwardTo = (target: string, incoming: IncomingMessage, body: Buffer) => forwardRequest(new URL(target), incoming.method ?? 'POST', incoming.url ?? '/', incoming.headers, body);

function send(response: ServerResponse, status: number, body: Buffer | string, headers: Record<string, string | string[] | undefined> = { 'content-type': JSON_TYPE }): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const { 'content-length': _length, 'transfer-encoding': _encoding, connection: _connection, ...rest } = headers;
  response.writeHead(status, { ...rest, 'content-length': String(bytes.length) });
  response.end(bytes);
}

export async function startKinesisFaultProxy(options: { target?: string } = {}): Promise<KinesisFaultProxy> {
  const rules: KinesisThrottleRule[] = [];
  const stats: KinesisFaultStats = { putCalls: 0, refusedCalls: 0, throttledRecords: 0, forwardedRecords: 0 };
  const rateExceeded = (stream: string | undefined) => `Rate exceeded for shard shardId-000000000000 in stream ${stream ?? ''} under account 000000000000.`;

  /** The rule the next PutRecords call falls under, used up by one. */
  const nextRule = (): KinesisThrottleRule['kind'] | undefined => {
    const rule = rules[0];
    if (!rule) return undefined;
    rule.calls -= 1;
    if (rule.calls <= 0) rules.shift();
    return rule.kind;
  };

  async function putRecords(incoming: IncomingMessage, body: Buffer, response: ServerResponse, target: string): Promise<void> {
    stats.putCalls += 1;
    const input = JSON.parse(body.toString('utf8')) as PutRecordsRequest;
    const kind = nextRule();
    if (kind === 'refuseCalls') {
      stats.refusedCalls += 1;
      stats.throttledRecords += input.Records.length;
      return send(response, 400, JSON.stringify({ __type: 'ProvisionedThroughputExceededException', message: rateExceeded(input.StreamName) }));
    }
    const throttled = (index: number) => kind === 'throttleRecords' && index % 2 === 1;
    const passed = input.Records.filter((_, index) => !throttled(index));
    let written: PutRecordsEntry[] = [];
    let failedCount = 0;
    if (passed.length > 0) {
      const reply = await forwardTo(target, incoming, Buffer.from(JSON.stringify({ ...input, Records: passed })));
      if (reply.status !== 200) return send(response, reply.status, reply.body, reply.headers);
      const output = JSON.parse(reply.body.toString('utf8')) as { FailedRecordCount?: number; Records: PutRecordsEntry[]; EncryptionType?: string };
      written = output.Records;
      failedCount = output.FailedRecordCount ?? 0;
    }
    stats.forwardedRecords += passed.length;
    const records: PutRecordsEntry[] = [];
    let next = 0;
    input.Records.forEach((_, index) => {
      if (throttled(index)) {
        stats.throttledRecords += 1;
        failedCount += 1;
        records.push({ ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: rateExceeded(input.StreamName) });
      } else records.push(written[next++] as PutRecordsEntry);
    });
    send(response, 200, JSON.stringify({ FailedRecordCount: failedCount, Records: records }));
  }

  const trimmed = new Map<string, bigint>();

  /** GetShardIterator under the emulated retention: a position before the trim point becomes the trim point. */
  function trimIterator(body: Buffer): Buffer {
    const input = JSON.parse(body.toString('utf8')) as { ShardId?: string; ShardIteratorType?: string; StartingSequenceNumber?: string };
    const trimPoint = trimmed.get(input.ShardId ?? '');
    if (trimPoint === undefined) return body;
    const type = input.ShardIteratorType;
    const before = (type === 'AT_SEQUENCE_NUMBER' || type === 'AFTER_SEQUENCE_NUMBER') && BigInt(input.StartingSequenceNumber ?? '0') < trimPoint;
    if (!before && type !== 'TRIM_HORIZON') return body;
    return Buffer.from(JSON.stringify({ ...input, ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: trimPoint.toString() }));
  }

  const proxy: KinesisFaultProxy = {
    url: '',
    target: options.target,
    throttle: (...added) => void rules.push(...added.map((rule) => ({ ...rule }))),
    pending: () => rules.map((rule) => ({ ...rule })),
    trimBefore: (shardId, sequenceNumber) => void trimmed.set(shardId, BigInt(sequenceNumber)),
    stats: () => ({ ...stats }),
    stop: async () => undefined,
  };

  const server = createServer((incoming, response) => {
    void (async () => {
      const body = await readBody(incoming);
      const target = proxy.target;
      if (!target) return send(response, 503, JSON.stringify({ __type: 'ServiceUnavailable', message: 'the fault proxy has no target yet' }));
      const operation = String(incoming.headers['x-amz-target'] ?? '').split('.').pop();
      if (operation === 'PutRecords') return putRecords(incoming, body, response, target);
      const reply = await forwardTo(target, incoming, operation === 'GetShardIterator' ? trimIterator(body) : body);
      send(response, reply.status, reply.body, reply.headers);
    })().catch((error: Error) => {
      if (!response.headersSent) send(response, 500, JSON.stringify({ __type: 'InternalFailure', message: error.message }));
    });
  });
  const port = await listen(server, 0);
  return Object.assign(proxy, {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
