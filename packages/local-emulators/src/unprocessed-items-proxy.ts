import { createServer, type IncomingHttpHeaders } from 'node:http';
import { forward, readBody } from './http-proxy';
import { crc32 } from 'node:zlib';
import { closer, listen, type RunningServer } from './emulators';

/** One write request of a BatchWriteItem, as the wire carries it (attribute values typed: `{ S: '…' }`). */
export interface WireWriteRequest {
  PutRequest?: { Item: Record<string, unknown> };
  DeleteRequest?: { Key: Record<string, unknown> };
}

export interface UnprocessedItemsProxyOptions {
  /** The DynamoDB endpoint behind the proxy (dynalite). */
  target: string;
  /**
   * Whether DynamoDB leaves this request unprocessed on this call (it is then not written, and comes back in
   * UnprocessedItems, as AWS does when a partition is throttled). `seen` counts the calls that carried this key so far,
   * this one included.
   */
  leaveUnprocessed(request: WireWriteRequest, seen: number): boolean;
}

export interface UnprocessedItemsProxy extends RunningServer {
  stats(): { batchWriteCalls: number; requests: number; leftUnprocessed: number };
}

const BATCH_WRITE = 'DynamoDB_20120810.BatchWriteItem';

const keyOf = (request: WireWriteRequest) => JSON.stringify(request.PutRequest ? [request.PutRequest.Item.pk, request.PutRequest.Item.sk] : [request.DeleteRequest?.Key.pk, request.DeleteRequest?.Key.sk]);

/**
 * DynamoDB that leaves some BatchWriteItem requests unprocessed, which dynalite never does: an HTTP proxy in front of
 * it that takes the requests `leaveUnprocessed` picks out of each BatchWriteItem call before forwarding the rest, and
 * adds them to the reply's UnprocessedItems (the checksum header recomputed), so they are not written, exactly as
 * AWS answers under throttling. A call whose every request is picked is answered without reaching dynalite. Every
 * other operation passes through unchanged.
 */
export async function startUnprocessedItemsProxy(options: UnprocessedItemsProxyOptions): Promise<UnprocessedItemsProxy> {
  const target = new URL(options.target);
  const seen = new Map<string, number>();
  const counts = { batchWriteCalls: 0, requests: 0, leftUnprocessed: 0 };
  const server = createServer((incoming, response) => {
    void (async () => {
      let body = await readBody(incoming);
      const withheld: Record<string, WireWriteRequest[]> = {};
      if (incoming.headers['x-amz-target'] === BATCH_WRITE) {
        const input = JSON.parse(body.toString('utf8')) as { RequestItems: Record<string, WireWriteRequest[]> };
        counts.batchWriteCalls += 1;
        for (const [table, requests] of Object.entries(input.RequestItems)) {
          const kept: WireWriteRequest[] = [];
          for (const request of requests) {
            const key = `${table}\u0000${keyOf(request)}`;
            const times = (seen.get(key) ?? 0) + 1;
            seen.set(key, times);
            counts.requests += 1;
            if (options.leaveUnprocessed(request, times)) (withheld[table] ??= []).push(request);
            else kept.push(request);
          }
          if (kept.length) input.RequestItems[table] = kept;
          else delete input.RequestItems[table];
        }
        counts.leftUnprocessed += Object.values(withheld).reduce((sum, requests) => sum + requests.length, 0);
        body = Buffer.from(JSON.stringify(input));
        if (Object.keys(input.RequestItems).length === 0) {
          const reply = Buffer.from(JSON.stringify({ UnprocessedItems: withheld }));
          response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amz-crc32': String(crc32(reply)), 'content-length': reply.length });
          response.end(reply);
          return;
        }
      }
      const reply = await forward(target, incoming.method ?? 'POST', incoming.url ?? '/', incoming.headers, body);
      let replyBody = reply.body;
      if (Object.keys(withheld).length && reply.status === 200) {
        const output = JSON.parse(replyBody.toString('utf8')) as { UnprocessedItems?: Record<string, WireWriteRequest[]> };
        const unprocessed = (output.UnprocessedItems ??= {});
        for (const [table, requests] of Object.entries(withheld)) unprocessed[table] = [...(unprocessed[table] ?? []), ...requests];
        replyBody = Buffer.from(JSON.stringify(output));
      }
      const headers: IncomingHttpHeaders = { ...reply.headers, 'content-length': String(replyBody.length) };
      if (headers['x-amz-crc32'] !== undefined) headers['x-amz-crc32'] = String(crc32(replyBody));
      delete headers['transfer-encoding'];
      response.writeHead(reply.status, headers);
      response.end(replyBody);
    })().catch((error: Error) => {
      response.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: error.message }));
    });
  });
  const port = await listen(server, 0);
  return { endpoint: `http://127.0.0.1:${port}`, port, stop: closer(server), stats: () => ({ ...counts }) };
}
