import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { LocalClientEndpoints } from '@invoice-pipeline/local-emulators';

export { LOCAL_ACCOUNT, LOCAL_CREDENTIALS, LOCAL_REGION, localClients } from '@invoice-pipeline/local-emulators';

/** The default state folder of the local stack: `.local/` at the repository root. */
export const DEFAULT_LOCAL_DIR = resolve(__dirname, '../../../.local');

/** One provisioned resource: its CloudFormation type, physical name and ARN. */
export interface ProvisionedResource {
  type: string;
  name: string;
  arn: string;
}

/** The local API (POST /invoices, GET /invoices/{invoiceNo}, GET /customers/{customerId}/invoices) and its keys. */
export interface LocalApi {
  url: string;
  /** Sends and reads for every local store (what `pnpm replay` uses). */
  key: string;
  /** Reads any invoice and customer histories; sends nothing. */
  backofficeKey: string;
  /** One key per store: sends and reads only that store's invoices. */
  storeKeys: Record<string, string>;
}

/** What `.local/endpoints.json` holds: everything a client needs to find the local stack without guessing. */
export interface Endpoints extends LocalClientEndpoints {
  stage: string;
  warehouse: { url: string };
  /** The local SQS (the stream processor's failure queue). */
  sqs?: string;
  /** serverless-offline's Lambda API of the stream processor (Invoke), while `pnpm start` serves. */
  lambda?: string;
  /** The local Glue's API (job runs of the batch path). */
  glue?: string;
  /** The API under serverless-offline, once started. */
  api?: LocalApi;
  dashboard?: string;
  /** Per service: logical id -> provisioned resource. */
  resources: Record<string, Record<string, ProvisionedResource>>;
  /** Per service: stack outputs, as compose passes them between services. */
  outputs: Record<string, Record<string, string>>;
}

/**
 * The stage's stack outputs the local tools read, by what they are: the one place that knows which service outputs
 * what (serverless-compose.yml's keys, each service's `Outputs`). A missing output is an error naming it.
 */
export function stageOutputs(endpoints: Pick<Endpoints, 'outputs'>) {
  const output = (service: string, name: string): string => {
    const value = endpoints.outputs[service]?.[name];
    if (!value) throw new Error(`endpoints.json has no output ${name} of the ${service} service: start the stack again (pnpm stack)`);
    return value;
  };
  return {
    get streamName() { return output('ingest', 'StreamName'); },
    get streamArn() { return output('ingest', 'StreamArn'); },
    get tableName() { return output('stream-processor', 'TableName'); },
    get archiveBucket() { return output('stream-processor', 'ArchiveBucketName'); },
    get warehouseDeliveryStream() { return output('stream-processor', 'WarehouseDeliveryStreamName'); },
    get stagingBucket() { return output('warehouse', 'StagingBucketName'); },
    get dumpsBucket() { return output('batch-loader', 'DumpsBucketName'); },
    get glueJobName() { return output('batch-loader', 'GlueJobName'); },
  };
}

/** An SQS client for the local SQS of these endpoints. */
export function localSqsClient(endpoints: Pick<Endpoints, 'region' | 'credentials' | 'sqs'>): SQSClient {
  if (!endpoints.sqs) throw new Error('these endpoints have no local SQS: start the stack again (pnpm stack)');
  return new SQSClient({ region: endpoints.region, credentials: endpoints.credentials, endpoint: endpoints.sqs, maxAttempts: 3 });
}

export function endpointsFile(dir: string): string {
  return resolve(dir, 'endpoints.json');
}

/** Writes atomically, so a reader never sees half a file. */
export async function writeEndpoints(dir: string, endpoints: Endpoints): Promise<string> {
  const file = endpointsFile(dir);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, `${JSON.stringify(endpoints, null, 2)}\n`, { mode: 0o600 });
  await rename(`${file}.tmp`, file);
  return file;
}

/** Reads an endpoints file; `hint` says what starts whatever the caller needs (the stack, or the API too). */
export async function readEndpointsFile(file: string, hint = 'start the local stack (pnpm stack; pnpm start --no-replay also serves the API)'): Promise<Endpoints> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): ${hint}`);
  }
  return JSON.parse(text) as Endpoints;
}

export async function readEndpoints(dir = DEFAULT_LOCAL_DIR, hint?: string): Promise<Endpoints> {
  return readEndpointsFile(endpointsFile(dir), hint);
}

/**
 * Environment for Lambda code running against the local stack (serverless-offline, local invoke, tests): the SDK's
 * standard per-service endpoint variables, so handlers carry no local special case.
 */
export function localLambdaEnvironment(endpoints: Pick<Endpoints, 'region' | 'credentials' | 'kinesis' | 'dynamodb' | 's3' | 'firehose'>): Record<string, string> {
  return {
    AWS_REGION: endpoints.region,
    AWS_DEFAULT_REGION: endpoints.region,
    AWS_ACCESS_KEY_ID: endpoints.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: endpoints.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_KINESIS: endpoints.kinesis,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_FIREHOSE: endpoints.firehose,
  };
}
