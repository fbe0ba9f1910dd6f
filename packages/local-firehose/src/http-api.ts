import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { utf8Text } from '@invoice-pipeline/local-emulators';
import type { DeliveryStreamType } from './config';
import type { describeDeliveryStream } from './describe';
import { FirehoseError, invalidArgument } from './errors';

/**
 * The Firehose JSON 1.1 API as SDKs and the AWS CLI speak it: `POST /` with `X-Amz-Target: Firehose_20150804.<Op>`,
 * blobs in base64, errors as `{ "__type", "message" }`. Signatures are not checked.
 */

/** Per-record limit (before base64), per-call limits of PutRecordBatch. */
const maxRecordBytes = 1_024_000;
const maxBatchRecords = 500;
const maxBatchBytes = 4 * 1024 * 1024;
/** Larger bodies are refused before parsing: 4 MiB of data is at most about 5.6 MB of base64 plus JSON. */
const maxBodyBytes = 8 * 1024 * 1024;

const targetPrefix = 'Firehose_20150804.';

export type PutRecordResult = { RecordId: string } | { ErrorCode: string; ErrorMessage: string };

/** What the HTTP layer needs from the emulator; input validation and response shapes stay here. */
export interface FirehoseBackend {
  createDeliveryStream(name: string, properties: unknown): Promise<string>;
  deleteDeliveryStream(name: string): Promise<void>;
  describeDeliveryStream(name: string): ReturnType<typeof describeDeliveryStream>;
  listDeliveryStreams(type?: DeliveryStreamType): string[];
  putRecords(name: string, records: readonly Buffer[]): Promise<{ results: PutRecordResult[]; encrypted: boolean }>;
}

type Input = Record<string, unknown>;
type Operation = (backend: FirehoseBackend, input: Input) => Promise<object> | object;

function validationError(path: string, constraint: string, value = ''): FirehoseError {
  return new FirehoseError('ValidationException', `1 validation error detected: Value ${value}at '${path}' failed to satisfy constraint: ${constraint}`);
}

function deliveryStreamName(input: Input): string {
  const name = input.DeliveryStreamName;
  if (name === undefined || name === null) throw validationError('deliveryStreamName', 'Member must not be null', 'null ');
  if (typeof name !== 'string') throw new FirehoseError('SerializationException', 'DeliveryStreamName must be a string');
  if (!/^[a-zA-Z0-9_.-]{1,64}$/.test(name)) {
    throw validationError('deliveryStreamName', 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ and have length 1 to 64', `'${name}' `);
  }
  return name;
}

/**
 * Standard base64 as Firehose's JSON protocol takes a blob: whole groups of four of A-Z a-z 0-9 + /, with `=` or `==`
 * padding only at the end. A loop over char codes: a regular expression was ~2 s of the run's process for the dataset.
 */
function isBase64(text: string): boolean {
  if (text.length % 4 !== 0) return false;
  const end = text.length - (text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0);
  for (let at = 0; at < end; at += 1) {
    const code = text.charCodeAt(at);
    const letterOrDigit = (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || (code >= 48 && code <= 57);
    if (!letterOrDigit && code !== 43 && code !== 47) return false;
  }
  return true;
}

function recordData(record: unknown, path: string): Buffer {
  const data = typeof record === 'object' && record !== null ? (record as Input).Data : undefined;
  if (data === undefined || data === null) throw validationError(`${path}.data`, 'Member must not be null', 'null ');
  if (typeof data !== 'string' || !isBase64(data)) throw new FirehoseError('SerializationException', `${path}.data is not valid base64`);
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length > maxRecordBytes) throw validationError(`${path}.data`, `Member must have length less than or equal to ${maxRecordBytes}`);
  return bytes;
}

const operations: Record<string, Operation> = {
  async PutRecord(backend, input) {
    const name = deliveryStreamName(input);
    const data = recordData(input.Record, 'record');
    const { results, encrypted } = await backend.putRecords(name, [data]);
    const [result] = results;
    if (!result || !('RecordId' in result)) {
      throw new FirehoseError(result?.ErrorCode === 'InternalFailure' ? 'InternalFailure' : 'ServiceUnavailableException', result?.ErrorMessage ?? 'Slow down.');
    }
    return { RecordId: result.RecordId, Encrypted: encrypted };
  },

  async PutRecordBatch(backend, input) {
    const name = deliveryStreamName(input);
    const records = input.Records;
    if (!Array.isArray(records)) throw validationError('records', 'Member must not be null', 'null ');
    if (records.length < 1) throw validationError('records', 'Member must have length greater than or equal to 1');
    if (records.length > maxBatchRecords) throw validationError('records', `Member must have length less than or equal to ${maxBatchRecords}`);
    const data = records.map((record, index) => recordData(record, `records.${index + 1}.member`));
    const total = data.reduce((sum, bytes) => sum + bytes.length, 0);
    if (total > maxBatchBytes) throw invalidArgument(`Records size ${total} bytes exceeds the 4 MiB limit of a PutRecordBatch call.`);
    const { results, encrypted } = await backend.putRecords(name, data);
    const failedPutCount = results.filter((result) => 'ErrorCode' in result).length;
    return { FailedPutCount: failedPutCount, Encrypted: encrypted, RequestResponses: results };
  },

  async CreateDeliveryStream(backend, input) {
    const name = deliveryStreamName(input);
    const { Tags: _tags, ...properties } = input;
    return { DeliveryStreamARN: await backend.createDeliveryStream(name, properties) };
  },

  async DeleteDeliveryStream(backend, input) {
    await backend.deleteDeliveryStream(deliveryStreamName(input));
    return {};
  },

  DescribeDeliveryStream(backend, input) {
    return { DeliveryStreamDescription: backend.describeDeliveryStream(deliveryStreamName(input)) };
  },

  ListDeliveryStreams(backend, input) {
    const limit = input.Limit ?? 10;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      throw validationError('limit', 'Member must have value between 1 and 10000', `'${String(limit)}' `);
    }
    const type = input.DeliveryStreamType;
    if (type !== undefined && type !== 'DirectPut' && type !== 'KinesisStreamAsSource') {
      throw validationError('deliveryStreamType', 'Member must satisfy enum value set', `'${String(type)}' `);
    }
    const after = typeof input.ExclusiveStartDeliveryStreamName === 'string' ? input.ExclusiveStartDeliveryStreamName : undefined;
    const names = backend
      .listDeliveryStreams(type)
      .sort()
      .filter((name) => after === undefined || name > after);
    return { DeliveryStreamNames: names.slice(0, limit), HasMoreDeliveryStreams: names.length > limit };
  },
};

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) throw new FirehoseError('SerializationException', `Request body exceeds ${maxBodyBytes} bytes`);
    chunks.push(chunk);
  }
  return utf8Text(Buffer.concat(chunks));
}

function parseInput(body: string): Input {
  let input: unknown;
  try {
    input = body.trim() === '' ? {} : JSON.parse(body);
  } catch {
    throw new FirehoseError('SerializationException', 'Request body is not valid JSON');
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new FirehoseError('SerializationException', 'Request body must be a JSON object');
  }
  return input as Input;
}

function send(response: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/x-amz-json-1.1',
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': randomUUID(),
    ...headers,
  });
  response.end(text);
}

function sendError(response: ServerResponse, error: unknown): void {
  if (error instanceof FirehoseError) {
    send(response, error.statusCode, { __type: error.code, message: error.message }, { 'x-amzn-ErrorType': error.code });
    return;
  }
  // A bug in the emulator: say so on its own console, never in the response (5xx details do not leak).
  console.error('local Firehose: unexpected error', error);
  send(response, 500, { __type: 'InternalFailure', message: 'Internal service failure.' }, { 'x-amzn-ErrorType': 'InternalFailure' });
}

export function firehoseRequestListener(backend: FirehoseBackend): RequestListener {
  return (request, response) => {
    void (async () => {
      try {
        const target = request.headers['x-amz-target'];
        const operationName = typeof target === 'string' && target.startsWith(targetPrefix) ? target.slice(targetPrefix.length) : undefined;
        const operation = operationName ? operations[operationName] : undefined;
        if (request.method !== 'POST' || !operation) {
          request.resume();
          throw new FirehoseError('UnknownOperationException', `Unknown operation ${String(target ?? '')}`);
        }
        const input = parseInput(await readBody(request));
        send(response, 200, await operation(backend, input));
      } catch (error) {
        sendError(response, error);
      }
    })();
  };
}
