import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localClients, type LocalClients, type RunningServer } from '@invoice-pipeline/local-emulators';
import { startLocalFirehose, type LocalFirehose, type RetrySettings } from '@invoice-pipeline/local-firehose';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { startLocalGlue, type LocalGlue } from '@invoice-pipeline/local-glue';
import { startDumpsTrigger, type DumpsTrigger } from './dumps-trigger';
import { localSqsClient, writeEndpoints, type Endpoints } from './endpoints';
import { startLocalSqs } from './local-sqs';
import { Stoppers } from './stoppers';
import { startSupervisedEmulator } from './supervisor';
import { printIndependentServicesAhead, provisionServices, summariseNotEmulated, type ProvisionResult } from './provision';
import { loadStagedFiles, STAGED_PREFIX } from '@invoice-pipeline/warehouse';
import { listStagedFiles, moveToLoaded } from '@invoice-pipeline/warehouse/s3';
import { connectWarehouse, localLoaderSession, startEmbeddedWarehouse, type Warehouse } from './warehouse';

/** Fixed ports of `pnpm stack`, so the AWS CLI and psql commands in the README work as written. */
export const DEFAULT_PORTS = { kinesis: 4567, dynamodb: 4568, s3: 4569, firehose: 4573, glue: 4574, sqs: 4576, warehouse: 5439 } as const;
export type StackPorts = Record<keyof typeof DEFAULT_PORTS, number>;
/** A free port for every part (tests, parallel runs). */
export const FREE_PORTS: StackPorts = { kinesis: 0, dynamodb: 0, s3: 0, firehose: 0, glue: 0, sqs: 0, warehouse: 0 };

/** The stack's list of the services' resources that have no local counterpart, with the reason for each. */
export const NOT_EMULATED_FILE = 'not-emulated.json';

export interface StackOptions {
  /** State folder: data of every emulator and endpoints.json. */
  dir: string;
  /** Start from empty data. */
  fresh?: boolean;
  /** 0 for a free port (tests); DEFAULT_PORTS otherwise. */
  ports?: Partial<StackPorts>;
  /** A real Postgres instead of the embedded one (e.g. from WAREHOUSE_URL). */
  warehouseUrl?: string;
  /** Serverless stage whose resources are provisioned. */
  stage?: string;
  /** How often staged files are loaded and merged (the deployed pipeline runs the same loader on a schedule). */
  mergeIntervalMs?: number;
  /** Firehose buffering interval override for every delivery stream, in seconds. */
  firehoseBufferSeconds?: number;
  /** Firehose retry settings (tests shorten the windows). */
  firehoseRetry?: RetrySettings;
  log?: (message: string) => void;
}

export interface LocalStack {
  endpoints: Endpoints;
  clients: LocalClients;
  /** The local SQS (the failure queue). */
  sqs: SQSClient;
  warehouse: Warehouse;
  firehose: LocalFirehose;
  /** The batch path: the local Glue (job runs) and the dumps bucket's trigger (S3 -> EventBridge -> startLoad). */
  glue: LocalGlue;
  dumpsTrigger?: DumpsTrigger;
  provisioned: ProvisionResult;
  /** Loads the staged files not loaded yet and merges them, as the deployed mergeWarehouse function does (also on a timer). Resolves to the files loaded. */
  mergeWarehouse(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts the offline AWS: Kinesis, DynamoDB, S3, a local Firehose and the warehouse, provisions every service's
 * resources from its own definition and writes endpoints.json. On any failure, whatever started is stopped.
 */
export async function startStack(options: StackOptions): Promise<LocalStack> {
  const log = options.log ?? (() => undefined);
  const stage = options.stage ?? 'local';
  // A caller asking free ports for the emulators (firehose: 0) gets a free one for Glue too, unless it names one.
  const ports: StackPorts = { ...DEFAULT_PORTS, ...(options.ports?.firehose === 0 ? { glue: 0 } : {}), ...options.ports };
  if (options.fresh) {
    for (const part of ['kinesis', 'dynamodb', 's3', 'sqs', 'firehose', 'warehouse', 'glue', 'endpoints.json']) await rm(join(options.dir, part), { recursive: true, force: true });
  }
  await mkdir(options.dir, { recursive: true });
  // Failures show when provisioning awaits the same prints.
  void printIndependentServicesAhead(stage).catch(() => undefined);

  const stoppers = new Stoppers();
  const track = (server: RunningServer) => {
    stoppers.push(server.stop);
    return server;
  };
  try {
    const [kinesis, dynamodb, s3, sqs] = await Promise.all([
      // Each npm emulator in a supervised process of its own: one emulator's crash is reported and it is restarted,
      // instead of ending every emulator, the Firehose, the warehouse and the API with it.
      startSupervisedEmulator('kinesis', { port: ports.kinesis, dataDir: join(options.dir, 'kinesis'), log }).then(track),
      startSupervisedEmulator('dynamodb', { port: ports.dynamodb, dataDir: join(options.dir, 'dynamodb'), log }).then(track),
      startSupervisedEmulator('s3', { port: ports.s3, dataDir: join(options.dir, 's3'), log }).then(track),
      startLocalSqs({ port: ports.sqs, region: LOCAL_REGION, dataDir: join(options.dir, 'sqs') }).then(track),
    ]);
    const warehouse = options.warehouseUrl
      ? await connectWarehouse(options.warehouseUrl)
      : await startEmbeddedWarehouse({ port: ports.warehouse, dataDir: join(options.dir, 'warehouse') });
    stoppers.push(() => warehouse.close());
    log(`kinesis ${kinesis.endpoint}, dynamodb ${dynamodb.endpoint}, s3 ${s3.endpoint}, warehouse ${warehouse.url}`);

    const base = { region: LOCAL_REGION, credentials: { ...LOCAL_CREDENTIALS }, kinesis: kinesis.endpoint, dynamodb: dynamodb.endpoint, s3: s3.endpoint };
    const sdk = localClients({ ...base, firehose: 'http://127.0.0.1:1' });
    const sqsClient = localSqsClient({ ...base, sqs: sqs.endpoint });
    stoppers.push(async () => sdk.destroy(), async () => sqsClient.destroy());
    const firehose = await startLocalFirehose({
      port: ports.firehose,
      region: LOCAL_REGION,
      s3: sdk.s3,
      kinesis: sdk.kinesis,
      buffering: options.firehoseBufferSeconds ? { intervalInSeconds: options.firehoseBufferSeconds } : undefined,
      retry: options.firehoseRetry,
      kinesisSource: { pollIntervalMs: 200 },
      // Acknowledged records and the source's checkpoints survive a restart of the stack, as they survive in AWS.
      dataDir: join(options.dir, 'firehose'),
    });
    stoppers.push(async () => {
      const report = await firehose.stop();
      if (report.inFlight > 0) log(`firehose stopped with ${report.inFlight} record(s) still in flight`);
    });

    const glue = await startLocalGlue({ port: ports.glue, s3: sdk.s3, warehouse, workDir: join(options.dir, 'glue'), log });
    stoppers.push(() => glue.stop());

    const provisioned = await provisionServices({ stage, region: LOCAL_REGION, clients: { ...sdk, sqs: sqsClient }, firehose, glue });
    // The full list is kept for whoever wants it; the log says what kinds of resources AWS has and the stack has not.
    await writeFile(join(options.dir, NOT_EMULATED_FILE), `${JSON.stringify(provisioned.notEmulated, null, 2)}\n`);
    log(`not emulated locally (${provisioned.notEmulated.length} resources, each in ${join(options.dir, NOT_EMULATED_FILE)}):`);
    for (const line of summariseNotEmulated(provisioned.notEmulated)) log(`  ${line}`);
    const batchLoader = provisioned.definitions['batch-loader'];
    const dumpsTrigger = batchLoader
      ? await startDumpsTrigger({ s3: sdk.s3, definition: batchLoader, region: LOCAL_REGION, credentials: base.credentials, glueEndpoint: glue.endpoint, log })
      : undefined;
    if (dumpsTrigger) stoppers.push(() => dumpsTrigger.stop());

    // The deployed loader's own code (mergeWarehouse): staged files in S3 -> COPY -> MERGE, here on the local warehouse.
    const stagingBucket = provisioned.outputs.warehouse?.StagingBucketName;
    if (!stagingBucket) throw new Error('the warehouse service has no StagingBucketName output');
    const session = localLoaderSession(warehouse, sdk.s3, stagingBucket);
    const loadOnce = () =>
      loadStagedFiles({ listStaged: () => listStagedFiles(sdk.s3, stagingBucket, STAGED_PREFIX), session, moveLoaded: (files) => moveToLoaded(sdk.s3, stagingBucket, files) });
    const loadAll = async () => {
      let loaded = 0;
      for (let report = await loadOnce(); ; report = await loadOnce()) {
        loaded += report.loaded;
        if (report.remaining === 0) return loaded;
      }
    };
    let merging: Promise<number> = Promise.resolve(0);
    const mergeWarehouse = () => (merging = merging.then(loadAll, loadAll));
    const mergeTimer = setInterval(() => void mergeWarehouse().catch((error: Error) => log(`warehouse load failed, will retry: ${error.message}`)), options.mergeIntervalMs ?? 2_000);
    stoppers.push(async () => {
      clearInterval(mergeTimer);
      await merging.catch(() => undefined);
    });

    const endpoints: Endpoints = {
      stage,
      ...base,
      firehose: firehose.endpoint,
      sqs: sqs.endpoint,
      glue: glue.endpoint,
      warehouse: { url: warehouse.url },
      resources: provisioned.resources,
      outputs: provisioned.outputs,
    };
    await writeEndpoints(options.dir, endpoints);
    const clients = localClients(endpoints);
    stoppers.push(async () => clients.destroy());
    return { endpoints, clients, sqs: sqsClient, warehouse, firehose, glue, dumpsTrigger, provisioned, mergeWarehouse, stop: () => stoppers.stopAll('the local stack') };
  } catch (error) {
    await stoppers.stopAll('the local stack').catch(() => undefined);
    throw error;
  }
}
