import { randomUUID, createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { closer, listen, LOCAL_ACCOUNT, type RunningServer } from '@invoice-pipeline/local-emulators';

/**
 * A small local SQS (npm has none that runs on Node 20 from CommonJS): the JSON protocol the AWS SDK v3 speaks, for
 * what the pipeline does with its failure queue: CreateQueue, GetQueueUrl, GetQueueAttributes, SendMessage,
 * ReceiveMessage (visibility timeout), DeleteMessage, PurgeQueue. Messages are kept in a file per queue (`dataDir`),
 * so, as in AWS, they survive a restart of the stack. Not emulated: FIFO queues, message attributes, long polling
 * (WaitTimeSeconds answers at once), dead-letter redrive policies, retention expiry, batch operations.
 */

interface StoredMessage {
  id: string;
  body: string;
  sentAt: number;
  /** Hidden until this time (ms) after a receive; 0 when visible. */
  invisibleUntil: number;
  receiveCount: number;
  receipt?: string;
}

interface Queue {
  name: string;
  messages: StoredMessage[];
}

class SqsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export interface LocalSqs extends RunningServer {
  /** Messages of a queue, visible or not (for tests and the stack's report). */
  depth(queueName: string): number;
}

export async function startLocalSqs(options: { port: number; region: string; dataDir?: string }): Promise<LocalSqs> {
  const queues = new Map<string, Queue>();
  const file = (name: string) => (options.dataDir ? join(options.dataDir, `${name}.json`) : undefined);
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  let endpoint = '';

  async function load(name: string): Promise<Queue> {
    const existing = queues.get(name);
    if (existing) return existing;
    const path = file(name);
    const queue: Queue = { name, messages: [] };
    if (path) {
      try {
        queue.messages = JSON.parse(await readFile(path, 'utf8')) as StoredMessage[];
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    queues.set(name, queue);
    return queue;
  }
  /** Durable before the reply: written to a temporary file and renamed. */
  async function save(queue: Queue): Promise<void> {
    const path = file(queue.name);
    if (!path) return;
    await writeFile(`${path}.tmp`, JSON.stringify(queue.messages));
    await rename(`${path}.tmp`, path);
  }
  async function queueOf(input: { QueueUrl?: string }): Promise<Queue> {
    const name = String(input.QueueUrl ?? '').split('/').pop() ?? '';
    const queue = queues.get(name);
    if (!queue) throw new SqsError('AWS.SimpleQueueService.NonExistentQueue', `The specified queue does not exist: ${input.QueueUrl}`);
    return queue;
  }
  const urlOf = (name: string) => `${endpoint}/${LOCAL_ACCOUNT}/${name}`;
  const md5 = (text: string) => createHash('md5').update(text).digest('hex');

  const operations: Record<string, (input: Record<string, unknown>) => Promise<unknown>> = {
    async CreateQueue(input) {
      const name = String(input.QueueName ?? '');
      if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) throw new SqsError('InvalidParameterValue', `invalid queue name ${name}`);
      await load(name);
      return { QueueUrl: urlOf(name) };
    },
    async GetQueueUrl(input) {
      const name = String(input.QueueName ?? '');
      if (!queues.has(name)) throw new SqsError('AWS.SimpleQueueService.NonExistentQueue', `The specified queue does not exist: ${name}`);
      return { QueueUrl: urlOf(name) };
    },
    async GetQueueAttributes(input) {
      const queue = await queueOf(input);
      const now = Date.now();
      const visible = queue.messages.filter((m) => m.invisibleUntil <= now).length;
      return {
        Attributes: {
          QueueArn: `arn:aws:sqs:${options.region}:${LOCAL_ACCOUNT}:${queue.name}`,
          ApproximateNumberOfMessages: String(visible),
          ApproximateNumberOfMessagesNotVisible: String(queue.messages.length - visible),
        },
      };
    },
    async SendMessage(input) {
      const queue = await queueOf(input);
      const body = String(input.MessageBody ?? '');
      if (body.length === 0 || Buffer.byteLength(body) > 262_144) throw new SqsError('InvalidParameterValue', 'MessageBody must be 1 byte to 256 KiB');
      const message: StoredMessage = { id: randomUUID(), body, sentAt: Date.now(), invisibleUntil: 0, receiveCount: 0 };
      queue.messages.push(message);
      await save(queue);
      return { MessageId: message.id, MD5OfMessageBody: md5(body) };
    },
    async ReceiveMessage(input) {
      const queue = await queueOf(input);
      const max = Math.min(Math.max(Number(input.MaxNumberOfMessages ?? 1), 1), 10);
      const visibility = Number(input.VisibilityTimeout ?? 30) * 1000;
      const now = Date.now();
      const taken = queue.messages.filter((m) => m.invisibleUntil <= now).slice(0, max);
      for (const message of taken) {
        message.invisibleUntil = now + visibility;
        message.receiveCount += 1;
        message.receipt = randomUUID();
      }
      if (taken.length) await save(queue);
      return {
        Messages: taken.map((m) => ({
          MessageId: m.id,
          ReceiptHandle: m.receipt,
          Body: m.body,
          MD5OfBody: md5(m.body),
          Attributes: { ApproximateReceiveCount: String(m.receiveCount), SentTimestamp: String(m.sentAt) },
        })),
      };
    },
    async DeleteMessage(input) {
      const queue = await queueOf(input);
      const index = queue.messages.findIndex((m) => m.receipt !== undefined && m.receipt === input.ReceiptHandle);
      if (index < 0) throw new SqsError('ReceiptHandleIsInvalid', 'The receipt handle is not valid (or the message was received again since).');
      queue.messages.splice(index, 1);
      await save(queue);
      return {};
    },
    async ChangeMessageVisibility(input) {
      const queue = await queueOf(input);
      const message = queue.messages.find((m) => m.receipt !== undefined && m.receipt === input.ReceiptHandle);
      if (!message) throw new SqsError('ReceiptHandleIsInvalid', 'The receipt handle is not valid (or the message was received again since).');
      const seconds = Number(input.VisibilityTimeout ?? 0);
      if (!Number.isInteger(seconds) || seconds < 0 || seconds > 43_200) throw new SqsError('InvalidParameterValue', 'VisibilityTimeout must be 0 to 43200 seconds');
      message.invisibleUntil = Date.now() + seconds * 1000;
      await save(queue);
      return {};
    },
    async PurgeQueue(input) {
      const queue = await queueOf(input);
      queue.messages = [];
      await save(queue);
      return {};
    },
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = operations[target.replace(/^AmazonSQS\./, '')];
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify(body));
    };
    if (!target.startsWith('AmazonSQS.') || !operation) return reply(400, { __type: 'com.amazonaws.sqs#UnsupportedOperation', message: `not emulated: ${target || 'a non-JSON request'}` });
    try {
      const input = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
      reply(200, await operation(input));
    } catch (error) {
      const type = error instanceof SqsError ? error.type : 'InternalError';
      reply(error instanceof SqsError ? 400 : 500, { __type: `com.amazonaws.sqs#${type}`, message: (error as Error).message });
    }
  }

  const server = createServer((request, response) => void handle(request, response));
  const port = await listen(server, options.port);
  endpoint = `http://127.0.0.1:${port}`;
  // Queues kept by an earlier run are there again at once.
  if (options.dataDir) {
    for (const entry of await readdir(options.dataDir)) if (entry.endsWith('.json')) await load(entry.slice(0, -5));
  }
  return { endpoint, port, stop: closer(server), depth: (name) => queues.get(name)?.messages.length ?? 0 };
}
