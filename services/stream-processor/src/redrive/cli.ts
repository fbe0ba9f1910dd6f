#!/usr/bin/env tsx
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseArgs } from 'node:util';
import { redriveBadRows, redriveFailureQueue, redriveFirehoseErrors, type InvokeProcessor } from './redrive';

const USAGE = `usage: pnpm redrive [--only failures|bad-rows|firehose-errors] [--keep] [--dir DIR]
       pnpm redrive --aws --stage STAGE [--region R] --staging-bucket NAME [--archive-bucket NAME] [--function NAME]

Replays what the streaming path set aside back through it; running it again changes no total:
  failures         the failure queue (Lambda's on-failure records): each batch re-read from the stream by its
                   sequence range and handed to processInvoices; the message is deleted once all of it is processed.
                   A batch the stream no longer holds (past its retention) is reported (shard, sequence range, why),
                   kept in the queue and copied to failures-kept/ of the archive bucket; the exit code is then 2
  bad-rows         bad-rows/ objects whose data is now a valid invoice (fix "data", base64, in place first) go to
                   processInvoices at their stream position; deleted once landed, kept (with the new reason) if refused
  firehose-errors  firehose-errors/: warehouse rows back to the warehouse delivery stream, raw-archive records to raw/
Without --aws it uses the local stack of DIR/endpoints.json (default .local/; pnpm start must be serving for
processInvoices). With --aws, the stage's resources by their names (AWS credentials from the environment).
--keep leaves replayed bad rows and error objects in place (replayed failure-queue messages are always deleted).`;

interface Targets {
  region: string;
  clients: { kinesis: KinesisClient; s3: S3Client; sqs: SQSClient; dynamodb: DynamoDBDocumentClient; firehose: FirehoseClient; lambda: LambdaClient };
  streamArn?: string;
  functionName: string;
  queueName: string;
  tableName: string;
  archiveBucket: string;
  stagingBucket: string;
  warehouseStream: string;
}

const SERVICE = 'invoice-stream-processor';
/** The names serverless.yml gives a stage's resources (custom.names). */
const stageNames = (stage: string) => ({
  functionName: `${SERVICE}-${stage}-processInvoices`,
  queueName: `${SERVICE}-${stage}-failures`,
  tableName: `${SERVICE}-${stage}-invoices`,
  warehouseStream: `${SERVICE}-${stage}-warehouse`,
});

async function localTargets(dir: string | undefined): Promise<Targets> {
  const { DEFAULT_LOCAL_DIR, readEndpoints, localClients, localSqsClient, stageOutputs } = await import('@invoice-pipeline/local-stack/endpoints');
  const endpoints = await readEndpoints(dir ?? DEFAULT_LOCAL_DIR, 'start the pipeline (pnpm start --no-replay) so processInvoices can be invoked');
  if (!endpoints.lambda) throw new Error('endpoints.json has no Lambda endpoint: start the pipeline (pnpm start --no-replay), not only the stack');
  // The emulators' clients with the settings each needs (one home: local-emulators), and the names the stack provisioned.
  const local = localClients(endpoints);
  const outputs = stageOutputs(endpoints);
  return {
    region: endpoints.region,
    clients: {
      kinesis: local.kinesis,
      s3: local.s3,
      sqs: localSqsClient(endpoints),
      dynamodb: DynamoDBDocumentClient.from(local.dynamodb),
      firehose: local.firehose,
      lambda: new LambdaClient({ region: endpoints.region, credentials: endpoints.credentials, endpoint: endpoints.lambda, maxAttempts: 1 }),
    },
    ...stageNames(endpoints.stage),
    streamArn: outputs.streamArn,
    tableName: outputs.tableName,
    warehouseStream: outputs.warehouseDeliveryStream,
    archiveBucket: outputs.archiveBucket,
    stagingBucket: outputs.stagingBucket,
  };
}

function awsTargets(values: Record<string, string | boolean | undefined>): Targets {
  const stage = String(values.stage ?? '');
  if (!stage || !values['staging-bucket'] || !values['archive-bucket']) throw new Error('--aws needs --stage, --archive-bucket and --staging-bucket (serverless-compose outputs --stage STAGE)');
  const region = String(values.region ?? process.env.AWS_REGION ?? 'eu-west-2');
  const names = stageNames(stage);
  return {
    region,
    clients: {
      kinesis: new KinesisClient({ region }),
      s3: new S3Client({ region }),
      sqs: new SQSClient({ region }),
      dynamodb: DynamoDBDocumentClient.from(new DynamoDBClient({ region })),
      firehose: new FirehoseClient({ region }),
      lambda: new LambdaClient({ region }),
    },
    ...names,
    functionName: String(values.function ?? names.functionName),
    archiveBucket: String(values['archive-bucket']),
    stagingBucket: String(values['staging-bucket']),
  };
}

/** processInvoices through the Lambda Invoke API; a function error is thrown (the item stays set aside). */
function lambdaInvoker(lambda: LambdaClient, functionName: string): InvokeProcessor {
  return async (event) => {
    const reply = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(event)) }));
    const payload = reply.Payload ? Buffer.from(reply.Payload).toString('utf8') : '';
    if (reply.FunctionError) throw new Error(`${functionName} failed: ${reply.FunctionError} ${payload.slice(0, 300)}`);
    return payload ? (JSON.parse(payload) as Awaited<ReturnType<InvokeProcessor>>) : {};
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      keep: { type: 'boolean', default: false },
      dir: { type: 'string' },
      aws: { type: 'boolean', default: false },
      stage: { type: 'string' },
      region: { type: 'string' },
      function: { type: 'string' },
      'archive-bucket': { type: 'string' },
      'staging-bucket': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return console.log(USAGE);
  const parts = values.only ? [values.only] : ['failures', 'bad-rows', 'firehose-errors'];
  if (parts.some((p) => !['failures', 'bad-rows', 'firehose-errors'].includes(p))) throw new Error(`--only takes failures, bad-rows or firehose-errors\n\n${USAGE}`);
  const targets = values.aws ? awsTargets(values) : await localTargets(values.dir);
  const { clients } = targets;
  const invoke = lambdaInvoker(clients.lambda, targets.functionName);
  try {
    if (parts.includes('failures')) {
      const { QueueUrl } = await clients.sqs.send(new GetQueueUrlCommand({ QueueName: targets.queueName }));
      const report = await redriveFailureQueue({
        sqs: clients.sqs,
        queueUrl: QueueUrl as string,
        kinesis: clients.kinesis,
        invoke,
        region: targets.region,
        keepIn: { s3: clients.s3, bucket: targets.archiveBucket },
      });
      console.log(`failure queue: ${report.batches} batch(es), ${report.replayed} of ${report.records} record(s) replayed, ${report.kept.length} kept for a person`);
      for (const kept of report.kept) {
        console.log(`  KEPT shard ${kept.shardId}, sequence ${kept.startSequenceNumber} to ${kept.endSequenceNumber}${kept.batchSize ? ` (${kept.batchSize} record(s)${kept.condition ? `, ${kept.condition}` : ''})` : ''}`);
        console.log(`       why: ${kept.reason}`);
        console.log(`       the message stays in the queue${kept.copy ? `; copy: ${kept.copy}` : ''}`);
      }
      // Something could not be replayed: a script running this notices.
      if (report.kept.length > 0) process.exitCode = 2;
    }
    if (parts.includes('bad-rows')) {
      const report = await redriveBadRows({ s3: clients.s3, bucket: targets.archiveBucket, table: { dynamodb: clients.dynamodb, tableName: targets.tableName }, invoke, region: targets.region, keep: values.keep });
      console.log(`bad rows: ${report.rows}, ${report.replayed} replayed, ${report.stillInvalid.length} still invalid, ${report.refusedAgain.length} refused again`);
      for (const key of [...report.stillInvalid, ...report.refusedAgain]) console.log(`  kept s3://${targets.archiveBucket}/${key}`);
    }
    if (parts.includes('firehose-errors')) {
      const report = await redriveFirehoseErrors({
        s3: clients.s3,
        warehouse: targets.stagingBucket ? { bucket: targets.stagingBucket, target: { firehose: clients.firehose, deliveryStreamName: targets.warehouseStream } } : undefined,
        raw: { bucket: targets.archiveBucket },
        keep: values.keep,
      });
      console.log(`firehose errors: ${report.objects} object(s), ${report.warehouseRecords} warehouse record(s) resent, ${report.rawRecords} raw record(s) archived`);
    }
  } finally {
    for (const client of Object.values(clients)) client.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
