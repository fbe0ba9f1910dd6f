import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_CREDENTIALS } from './endpoints';
import { startLocalSqs } from './local-sqs';

describe('the local SQS (the failure queue)', () => {
  it('speaks the SDK v3 protocol: send, receive (then invisible), delete; messages survive a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'local-sqs-'));
    const start = async () => {
      const server = await startLocalSqs({ port: 0, region: 'eu-west-2', dataDir });
      return { server, client: new SQSClient({ endpoint: server.endpoint, region: 'eu-west-2', credentials: LOCAL_CREDENTIALS }) };
    };
    let { server, client } = await start();
    try {
      const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'failures' }));
      for (const body of ['one', 'two']) await client.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
      const first = await client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1, VisibilityTimeout: 60 }));
      expect(first.Messages?.map((m) => m.Body)).toEqual(['one']);
      const attributes = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
      expect(attributes.Attributes).toMatchObject({ ApproximateNumberOfMessages: '1', ApproximateNumberOfMessagesNotVisible: '1' });
      await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: first.Messages?.[0]?.ReceiptHandle }));

      client.destroy();
      await server.stop();
      ({ server, client } = await start());
      const { QueueUrl: again } = await client.send(new CreateQueueCommand({ QueueName: 'failures' }));
      const kept = await client.send(new ReceiveMessageCommand({ QueueUrl: again, MaxNumberOfMessages: 10 }));
      expect(kept.Messages?.map((m) => m.Body)).toEqual(['two']);
      await expect(client.send(new SendMessageCommand({ QueueUrl: `${server.endpoint}/000000000000/nope`, MessageBody: 'x' }))).rejects.toThrow(/does not exist/);
    } finally {
      client.destroy();
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
