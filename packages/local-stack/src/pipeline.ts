import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { localLambdaEnvironment, writeEndpoints } from './endpoints';
import { startKinesisEventSource, type BatchResult, type FailedBatch, type RunningEventSource } from './kinesis-event-source';
import { createLocalApiKey, startOffline, type RunningOffline } from './offline';
import { startStack, type LocalStack, type StackOptions } from './stack';

/** The stream event of processInvoices as declared in serverless.yml (what the event source mapping is built from). */
interface StreamEventSettings {
  batchSize?: number;
  maximumRetryAttempts?: number;
  bisectBatchOnFunctionError?: boolean;
  functionResponseType?: string;
  startingPosition?: 'TRIM_HORIZON' | 'LATEST';
}

export interface LocalPipeline {
  stack: LocalStack;
  ingest: RunningOffline;
  streamProcessor: RunningOffline;
  eventSource: RunningEventSource;
  api: { url: string; key: string };
  /** Batches that exhausted their retries (the deployed pipeline's on-failure queue). */
  failedBatches: FailedBatch[];
  /** Waits until every record on the stream is processed, Firehose has delivered and the warehouse merged. */
  settle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const PROCESS_FUNCTION = 'processInvoices';

/**
 * The whole streaming path offline: the local stack, ingest and stream-processor under serverless-offline, and the
 * Kinesis event source mapping invoking processInvoices through offline's Lambda API with the settings of its
 * serverless.yml. The API key is generated per run and written to endpoints.json, never stored in the repo.
 */
export async function startLocalPipeline(options: StackOptions): Promise<LocalPipeline> {
  const log = options.log ?? (() => undefined);
  const stack = await startStack(options);
  const stoppers: Array<() => Promise<void>> = [() => stack.stop()];
  const stopAll = async () => {
    for (const stop of stoppers.reverse()) await stop().catch((error: Error) => log(`stop failed: ${error.message}`));
  };
  try {
    const env = localLambdaEnvironment(stack.endpoints);
    // Offline resolves serverless.yml again: it needs the same outputs of other services that compose passed.
    const composeParams = (service: string) => stack.provisioned.definitions[service]?.params ?? {};
    const key = createLocalApiKey();
    const [ingest, streamProcessor] = await Promise.all([
      startOffline({ service: 'ingest', env, params: { ...composeParams('ingest'), localApiKey: key } }),
      startOffline({ service: 'stream-processor', env: { ...env, POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'WARN' }, params: composeParams('stream-processor') }),
    ]);
    stoppers.push(() => ingest.stop(), () => streamProcessor.stop());
    const api = { url: ingest.url, key };
    await writeEndpoints(options.dir, { ...stack.endpoints, api });

    const definition = stack.provisioned.definitions['stream-processor'];
    const functions = (definition?.config.functions ?? {}) as Record<string, { name?: string; events?: Array<{ stream?: StreamEventSettings }> }>;
    const settings = functions[PROCESS_FUNCTION]?.events?.find((event) => event.stream)?.stream ?? {};
    const functionName = functions[PROCESS_FUNCTION]?.name ?? `${definition?.service}-${stack.endpoints.stage}-${PROCESS_FUNCTION}`;
    const lambda = new LambdaClient({ region: stack.endpoints.region, credentials: stack.endpoints.credentials, endpoint: streamProcessor.lambdaUrl, maxAttempts: 1 });
    stoppers.push(async () => lambda.destroy());

    const failedBatches: FailedBatch[] = [];
    const eventSource = await startKinesisEventSource({
      kinesis: stack.clients.kinesis,
      streamName: stack.endpoints.outputs.ingest?.StreamName ?? '',
      streamArn: stack.endpoints.outputs.ingest?.StreamArn ?? '',
      region: stack.endpoints.region,
      batchSize: Number(settings.batchSize ?? 100),
      maximumRetryAttempts: Number(settings.maximumRetryAttempts ?? 3),
      bisectBatchOnFunctionError: Boolean(settings.bisectBatchOnFunctionError),
      reportBatchItemFailures: settings.functionResponseType === 'ReportBatchItemFailures',
      startingPosition: settings.startingPosition ?? 'TRIM_HORIZON',
      log,
      async invoke(event): Promise<BatchResult> {
        const reply = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(event)) }));
        const payload = reply.Payload ? Buffer.from(reply.Payload).toString('utf8') : '';
        if (reply.FunctionError) return { functionError: `${reply.FunctionError}: ${payload.slice(0, 500)}` };
        return payload ? (JSON.parse(payload) as BatchResult) : {};
      },
      async onFailure(failed) {
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
      async settle(timeoutMs = 600_000) {
        await eventSource.drain(timeoutMs);
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
