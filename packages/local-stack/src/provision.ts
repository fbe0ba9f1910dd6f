import { CreateTableCommand, ResourceInUseException, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, ResourceInUseException as StreamInUseException } from '@aws-sdk/client-kinesis';
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { BucketAlreadyExists, BucketAlreadyOwnedByYou, CreateBucketCommand } from '@aws-sdk/client-s3';
import { LOCAL_ACCOUNT, type LocalClients } from '@invoice-pipeline/local-emulators';
import type { ProvisionedResource } from './endpoints';
import { resolveIntrinsics, type ProvisionedResourceLike } from './intrinsics';
import { printService, readCompose, REPO_ROOT, type CfnResource, type ComposeService, type ServiceDefinition } from './service-definitions';

/** What the local Firehose must offer the provisioner. */
export interface DeliveryStreamHost {
  createDeliveryStream(name: string, properties: Record<string, unknown>): Promise<unknown> | unknown;
}

/** What the local Glue must offer the provisioner: false for a Glue type it does not emulate. */
export interface GlueHost {
  createResource(type: string, name: string, properties: Record<string, unknown>): boolean;
}

export interface ProvisionOptions {
  stage: string;
  region: string;
  clients: Pick<LocalClients, 'kinesis' | 'dynamodb' | 's3'> & { sqs?: SQSClient };
  firehose: DeliveryStreamHost;
  glue?: GlueHost;
  root?: string;
}

export interface ProvisionResult {
  resources: Record<string, Record<string, ProvisionedResource>>;
  outputs: Record<string, Record<string, string>>;
  /** Resources declared by the services that have no local counterpart, and why. */
  notEmulated: Array<{ service: string; logicalId: string; type: string; reason: string }>;
  /** Each service's resolved configuration, by compose key (functions and their event settings included). */
  definitions: Record<string, ServiceDefinition>;
}

const NAME_PROPERTY: Record<string, string> = {
  'AWS::Kinesis::Stream': 'Name',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::KinesisFirehose::DeliveryStream': 'DeliveryStreamName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::Glue::Job': 'Name',
  'AWS::Glue::Crawler': 'Name',
  'AWS::Glue::Database': 'DatabaseInput.Name',
  'AWS::Glue::Classifier': 'CsvClassifier.Name',
  'AWS::Glue::Connection': 'ConnectionInput.Name',
};

const NOT_EMULATED: Record<string, string> = {
  'AWS::SQS::Queue': 'no local SQS in this run',
  'AWS::IAM::Role': 'no IAM locally: the emulators accept any credentials',
  'AWS::CloudWatch::Alarm': 'no CloudWatch locally',
  'AWS::Glue::Connection': 'the local Glue job writes the local warehouse directly (no JDBC connection or VPC)',
};

/** Physical name, Ref value and ARN of a resource, as CloudFormation would give them. */
function identify(logicalId: string, resource: CfnResource, region: string): ProvisionedResourceLike {
  const nameProperty = NAME_PROPERTY[resource.Type];
  const declared = nameProperty?.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], resource.Properties);
  const name = typeof declared === 'string' ? declared : logicalId;
  switch (resource.Type) {
    case 'AWS::Kinesis::Stream':
      return { type: resource.Type, name, ref: name, arn: `arn:aws:kinesis:${region}:${LOCAL_ACCOUNT}:stream/${name}` };
    case 'AWS::DynamoDB::Table':
      return { type: resource.Type, name, ref: name, arn: `arn:aws:dynamodb:${region}:${LOCAL_ACCOUNT}:table/${name}` };
    case 'AWS::S3::Bucket':
      return { type: resource.Type, name, ref: name, arn: `arn:aws:s3:::${name}` };
    case 'AWS::KinesisFirehose::DeliveryStream':
      return { type: resource.Type, name, ref: name, arn: `arn:aws:firehose:${region}:${LOCAL_ACCOUNT}:deliverystream/${name}` };
    case 'AWS::SQS::Queue':
      return { type: resource.Type, name, ref: `https://sqs.${region}.amazonaws.com/${LOCAL_ACCOUNT}/${name}`, arn: `arn:aws:sqs:${region}:${LOCAL_ACCOUNT}:${name}` };
    case 'AWS::IAM::Role':
      return { type: resource.Type, name, ref: name, arn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/${name}` };
    default:
      return { type: resource.Type, name, ref: name, arn: `arn:aws:local:${region}:${LOCAL_ACCOUNT}:${logicalId}` };
  }
}

async function ignoreExisting(create: Promise<unknown>, ...existing: Array<abstract new (...args: never[]) => Error>): Promise<void> {
  try {
    await create;
  } catch (error) {
    if (!existing.some((type) => error instanceof type)) throw error;
  }
}

async function createResource(resource: CfnResource, identity: ProvisionedResourceLike, properties: Record<string, unknown>, options: ProvisionOptions): Promise<boolean> {
  const { clients } = options;
  switch (resource.Type) {
    case 'AWS::Kinesis::Stream':
      await ignoreExisting(clients.kinesis.send(new CreateStreamCommand({ StreamName: identity.name, ShardCount: Number(properties.ShardCount ?? 1) })), StreamInUseException);
      return true;
    case 'AWS::DynamoDB::Table': {
      const input: CreateTableCommandInput = {
        TableName: identity.name,
        AttributeDefinitions: properties.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
        KeySchema: properties.KeySchema as CreateTableCommandInput['KeySchema'],
        GlobalSecondaryIndexes: properties.GlobalSecondaryIndexes as CreateTableCommandInput['GlobalSecondaryIndexes'],
        BillingMode: properties.BillingMode as CreateTableCommandInput['BillingMode'],
      };
      await ignoreExisting(clients.dynamodb.send(new CreateTableCommand(input)), ResourceInUseException);
      return true;
    }
    case 'AWS::S3::Bucket':
      // s3rver answers BucketAlreadyExists for a bucket kept from the last run; AWS would say BucketAlreadyOwnedByYou.
      await ignoreExisting(clients.s3.send(new CreateBucketCommand({ Bucket: identity.name })), BucketAlreadyOwnedByYou, BucketAlreadyExists);
      return true;
    case 'AWS::SQS::Queue':
      if (!clients.sqs) return false;
      await clients.sqs.send(new CreateQueueCommand({ QueueName: identity.name }));
      return true;
    case 'AWS::KinesisFirehose::DeliveryStream':
      await options.firehose.createDeliveryStream(identity.name, properties);
      return true;
    default:
      if (resource.Type.startsWith('AWS::Glue::')) return options.glue?.createResource(resource.Type, identity.name, properties) ?? false;
      return false;
  }
}

/** Resources without a local counterpart, one line per type and reason (an IAM role of every function need not be a line each). */
export function summariseNotEmulated(notEmulated: ProvisionResult['notEmulated']): string[] {
  const groups = new Map<string, { type: string; reason: string; count: number }>();
  for (const { type, reason } of notEmulated) {
    const key = `${type}\u0000${reason}`;
    const group = groups.get(key) ?? { type, reason, count: 0 };
    group.count += 1;
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || a.type.localeCompare(b.type)).map(({ type, reason, count }) => `${count} × ${type}: ${reason}`);
}

/** Creates one service's resources (streams and buckets before the delivery streams that read or write them). */
async function provisionService(definition: ServiceDefinition, options: ProvisionOptions, result: ProvisionResult): Promise<Record<string, string>> {
  const identities = Object.fromEntries(Object.entries(definition.resources).map(([id, resource]) => [id, identify(id, resource, options.region)]));
  const ordered = Object.entries(definition.resources).sort(([, a], [, b]) => Number(a.Type === 'AWS::KinesisFirehose::DeliveryStream') - Number(b.Type === 'AWS::KinesisFirehose::DeliveryStream'));
  const provisioned: Record<string, ProvisionedResource> = {};
  for (const [logicalId, resource] of ordered) {
    const identity = identities[logicalId] as ProvisionedResourceLike;
    const properties = resolveIntrinsics(resource.Properties ?? {}, identities) as Record<string, unknown>;
    if (await createResource(resource, identity, properties, options)) {
      provisioned[logicalId] = { type: identity.type, name: identity.name, arn: identity.arn };
    } else {
      result.notEmulated.push({ service: definition.key, logicalId, type: resource.Type, reason: NOT_EMULATED[resource.Type] ?? 'not emulated locally' });
    }
  }
  result.resources[definition.key] = provisioned;
  return Object.fromEntries(Object.entries(definition.outputs).map(([name, output]) => [name, String(resolveIntrinsics(output.Value, identities))]));
}

/** A service can be printed once every output it takes as a param is known (`outputs`, by service). */
const readyToPrint = (service: ComposeService, outputs: Readonly<Record<string, unknown>>): boolean =>
  Object.values(service.params).every((param) => typeof param === 'string' || outputs[param.service] !== undefined);

/** The services of serverless-compose.yml that take no other service's outputs: their `sls print` can start at once. */
export function independentServices(compose: readonly ComposeService[]): Array<ComposeService & { params: Record<string, string> }> {
  return compose.filter((service): service is ComposeService & { params: Record<string, string> } => readyToPrint(service, {}));
}

/**
 * Starts `sls print` of the independent services now, ahead of provisionServices, which then finds the same prints
 * under way (printService keeps them by service, stage and params) and reports any failure. On a first run (nothing
 * printed on disk yet) each print loads the Serverless Framework for seconds, and these ran only once the emulators and
 * the warehouse were up; the CPU is a third idle while those start.
 */
export async function printIndependentServicesAhead(stage: string, root = REPO_ROOT): Promise<void> {
  for (const service of independentServices(await readCompose(root))) {
    printService(service.key, service.path, stage, service.params).catch(() => undefined);
  }
}

/**
 * Provisions every service of serverless-compose.yml for a stage, from each service's own resolved definition
 * (`sls print`), passing outputs to the services that take them as params, as compose does on deploy.
 */
export async function provisionServices(options: ProvisionOptions): Promise<ProvisionResult> {
  const compose = await readCompose(options.root ?? REPO_ROOT);
  const result: ProvisionResult = { resources: {}, outputs: {}, notEmulated: [], definitions: {} };
  const pending = new Map(compose.map((service) => [service.key, service]));
  while (pending.size > 0) {
    // Services whose params are all available run together (`sls print` takes seconds each).
    const ready = [...pending.values()].filter((service) => readyToPrint(service, result.outputs));
    if (ready.length === 0) throw new Error(`serverless-compose.yml: circular or unknown output references among ${[...pending.keys()].join(', ')}`);
    const definitions = await Promise.all(
      ready.map((service) => {
        const params = Object.fromEntries(
          Object.entries(service.params).map(([name, param]) => {
            if (typeof param === 'string') return [name, param];
            const value = result.outputs[param.service]?.[param.output];
            if (value === undefined) throw new Error(`serverless-compose.yml: ${service.key} takes ${name} from ${param.service}.${param.output}, which is not an output`);
            return [name, value];
          }),
        );
        return printService(service.key, service.path, options.stage, params);
      }),
    );
    for (const definition of definitions) {
      result.outputs[definition.key] = await provisionService(definition, options, result);
      result.definitions[definition.key] = definition;
      pending.delete(definition.key);
    }
  }
  return result;
}
