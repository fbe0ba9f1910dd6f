import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { utf8Bytes } from '@invoice-pipeline/local-emulators';
import { startApiRouter, type HttpRoute } from './api-router';
import { LOCAL_ACCOUNT, localLambdaEnvironment, stageOutputs, writeEndpoints, type LocalApi } from './endpoints';
import { localKeyBindings, localKeys } from './local-keys';
import { startKinesisEventSource, type BatchResult, type FailedBatch, type RunningEventSource } from './kinesis-event-source';
import { environmentConflicts, lambdaRunner, type LambdaRunner, type ServiceEnvironments } from './lambda-runner';
import { startOffline, type RunningOffline } from './offline';
import { startStack, type LocalStack, type StackOptions } from './stack';
import { Stoppers } from './stoppers';

/** The stream event of the stream's consumer (processInvoices) as declared in serverless.yml (what the event source mapping is built from). */
interface StreamEventSettings {
  batchSize?: number;
  parallelizationFactor?: number;
  maximumRetryAttempts?: number;
  maximumRecordAgeInSeconds?: number;
  bisectBatchOnFunctionError?: boolean;
  functionResponseType?: string;
  startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** `arn: !GetAtt FailureQueue.Arn` as `sls print` gives it. */
  destinations?: { onFailure?: { arn?: unknown; type?: string } };
}

/** The provisioned queue an on-failure destination names (a `Fn::GetAtt` of a queue of the same service). */
function failureQueueName(settings: StreamEventSettings, resources: Record<string, { name: string; type: string }> = {}): string | undefined {
  const arn = settings.destinations?.onFailure?.arn as { 'Fn::GetAtt'?: [string, string] } | string | undefined;
  const logicalId = typeof arn === 'object' ? arn['Fn::GetAtt']?.[0] : undefined;
  const byId = logicalId ? resources[logicalId] : undefined;
  if (byId?.type === 'AWS::SQS::Queue') return byId.name;
  return typeof arn === 'string' ? arn.split(':').pop() : undefined;
}

export interface LocalPipeline {
  stack: LocalStack;
  ingest: RunningOffline;
  streamProcessor: RunningOffline;
  eventSource: RunningEventSource;
  /** The one local API (POST /invoices and the read API) and its keys, as written to endpoints.json. */
  api: LocalApi;
  /** Batches that exhausted their retries (the deployed pipeline's on-failure queue). */
  failedBatches: FailedBatch[];
  /**
   * Waits until every record on the stream is processed, Firehose has delivered and the warehouse merged; fails only
   * when the stream processor makes no progress for `stallMs` (default 5 min), however slow the machine.
   */
  settle(stallMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** The HTTP events of a service's functions (`sls print` config). */
function httpEvents(config: Record<string, unknown> | undefined): HttpRoute[] {
  const functions = (config?.functions ?? {}) as Record<string, { events?: Array<{ http?: HttpRoute }> }>;
  return Object.values(functions).flatMap((fn) => (fn.events ?? []).flatMap((event) => (event.http ? [event.http] : [])));
}

/**
 * The whole streaming path offline: the local stack, ingest and stream-processor under serverless-offline, and the
 * Kinesis event source mapping invoking processInvoices through offline's Lambda API with the settings of its
 * serverless.yml. The API key is generated per run and written to endpoints.json, never stored in the repo.
 */
export interface PipelineOptions extends StackOptions {
  /**
   * The Kinesis endpoint ingest writes to, given the stream's own (default: the stream's). Tests put a fault-injecting
   * proxy there (`startTestPipeline({ kinesisFaults: true })`); the stream processor and Firehose read the stream itself.
   */
  ingestKinesisEndpoint?: (streamEndpoint: string) => string;
}

/**
 * Both services' handlers log at WARN and publish no EMF metrics locally: nothing reads them offline, and the output
 * kept for a failed start then holds warnings and errors rather than two INFO lines per accepted POST (no CPU saving
 * showed beyond run-to-run noise). POWERTOOLS_LOG_LEVEL in the caller's environment still wins. Deployed stages are
 * unchanged.
 */
function localObservability(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return { POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: env.POWERTOOLS_LOG_LEVEL || 'WARN' };
}

export async function startLocalPipeline(options: PipelineOptions): Promise<LocalPipeline> {
  const log = options.log ?? (() => undefined);
  const stack = await startStack(options);
  const stoppers = new Stoppers();
  stoppers.push(() => stack.stop());
  const stopAll = () =>
    stoppers.stopAll('the local pipeline').catch((error: AggregateError) => {
      for (const failure of error.errors as Error[]) log(`stop failed: ${failure.message}`);
    });
  try {
    const env = localLambdaEnvironment(stack.endpoints);
    // Offline resolves serverless.yml again: it needs the same outputs of other services that compose passed.
    const composeParams = (service: string) => stack.provisioned.definitions[service]?.params ?? {};
    const ingestDefinition = stack.provisioned.definitions.ingest;
    if (!ingestDefinition) throw new Error('the local stack provisioned no ingest service');
    const keys = localKeys(ingestDefinition);
    // The read functions take the key bindings from ingest's StoreApiKeys output (compose's storeApiKeys param), here
    // as ingest resolves it with the local keys, and serverless-offline checks the same key values in both processes.
    const storeApiKeys = await localKeyBindings(ingestDefinition, keys.params);
    // In-process unless asked otherwise, and never for a service whose functions give one variable different values.
    const runner = lambdaRunner();
    const runnerOf = (service: string): LambdaRunner => {
      const conflicts = environmentConflicts(stack.provisioned.definitions[service]?.config as ServiceEnvironments | undefined);
      if (runner === 'in-process' && conflicts.length) {
        log(`${service}: handlers run in worker threads: its functions set ${conflicts.join(', ')} to different values, and in-process they share one environment`);
        return 'worker-threads';
      }
      return runner;
    };
    const [ingest, streamProcessor] = await Promise.all([
      startOffline({
        service: 'ingest',
        runner: runnerOf('ingest'),
        env: {
          ...env,
          AWS_ENDPOINT_URL_KINESIS: options.ingestKinesisEndpoint?.(stack.endpoints.kinesis) ?? stack.endpoints.kinesis,
          ...localObservability(),
        },
        params: { ...composeParams('ingest'), ...keys.params },
      }),
      startOffline({
        service: 'stream-processor',
        runner: runnerOf('stream-processor'),
        env: { ...env, ...localObservability() },
        params: { ...composeParams('stream-processor'), storeApiKeys, localApiKeys: keys.values.join(',') },
      }),
    ]);
    stoppers.push(() => ingest.stop(), () => streamProcessor.stop());
    // One base URL, as deployed: the stream processor's HTTP routes go to its process, everything else to ingest's.
    const router = await startApiRouter({ fallback: ingest.url, routes: [{ target: streamProcessor.url, events: httpEvents(stack.provisioned.definitions['stream-processor']?.config) }] });
    stoppers.push(() => router.stop());
    const api: LocalApi = { url: router.url, ...keys.api };
    await writeEndpoints(options.dir, { ...stack.endpoints, api, lambda: streamProcessor.lambdaUrl });

    const definition = stack.provisioned.definitions['stream-processor'];
    // The function subscribed to the invoice stream (processInvoices), found by its stream event, not by name.
    const functions = (definition?.config.functions ?? {}) as Record<string, { name?: string; events?: Array<{ stream?: StreamEventSettings }> }>;
    const [functionKey, consumer] = Object.entries(functions).find(([, fn]) => fn.events?.some((event) => event.stream)) ?? [];
    if (!functionKey || !consumer) throw new Error('the stream-processor service has no function with a stream event');
    const settings = consumer.events?.find((event) => event.stream)?.stream ?? {};
    const functionName = consumer.name ?? `${definition?.service}-${stack.endpoints.stage}-${functionKey}`;
    const lambda = new LambdaClient({ region: stack.endpoints.region, credentials: stack.endpoints.credentials, endpoint: streamProcessor.lambdaUrl, maxAttempts: 1 });
    stoppers.push(async () => lambda.destroy());

    const failedBatches: FailedBatch[] = [];
    // Lambda's on-failure destination: the service's failure queue on the local SQS, as declared.
    const queueName = failureQueueName(settings, stack.provisioned.resources['stream-processor']);
    if (!queueName) throw new Error(`${functionKey}'s stream event has no on-failure queue the local stack provisioned`);
    const { QueueUrl: failureQueueUrl } = await stack.sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
    const eventSource = await startKinesisEventSource({
      kinesis: stack.clients.kinesis,
      streamName: stageOutputs(stack.endpoints).streamName,
      streamArn: stageOutputs(stack.endpoints).streamArn,
      region: stack.endpoints.region,
      batchSize: Number(settings.batchSize ?? 100),
      parallelizationFactor: Number(settings.parallelizationFactor ?? 1),
      maximumRetryAttempts: Number(settings.maximumRetryAttempts ?? 3),
      maximumRecordAgeInSeconds: Number(settings.maximumRecordAgeInSeconds ?? -1),
      functionArn: `arn:aws:lambda:${stack.endpoints.region}:${LOCAL_ACCOUNT}:function:${functionName}`,
      bisectBatchOnFunctionError: Boolean(settings.bisectBatchOnFunctionError),
      reportBatchItemFailures: settings.functionResponseType === 'ReportBatchItemFailures',
      startingPosition: settings.startingPosition ?? 'TRIM_HORIZON',
      log,
      async invoke(event): Promise<BatchResult> {
        const reply = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: utf8Bytes(JSON.stringify(event)) }));
        const payload = reply.Payload ? Buffer.from(reply.Payload).toString('utf8') : '';
        if (reply.FunctionError) return { functionError: `${reply.FunctionError}: ${payload.slice(0, 500)}` };
        return payload ? (JSON.parse(payload) as BatchResult) : {};
      },
      async onFailure(failed) {
        await stack.sqs.send(new SendMessageCommand({ QueueUrl: failureQueueUrl, MessageBody: JSON.stringify(failed) }));
        failedBatches.push(failed);
      },
    });
    stoppers.push(() => eventSource.stop());

    return {
      stack,
      ingest,
      streamProcessor,
      eventSource,
      api,
      failedBatches,
      async settle(stallMs = 300_000) {
        await eventSource.drain(stallMs);
        await stack.firehose.flush();
        await stack.mergeWarehouse();
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
