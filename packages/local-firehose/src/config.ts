import { invalidArgument } from './errors';
import { hasExpressions, parsePrefix, type KeyPrefix } from './key-format';

/**
 * Delivery stream definitions: the CloudFormation `Properties` of `AWS::KinesisFirehose::DeliveryStream`, which use the
 * same field names as the CreateDeliveryStream API input, so both are read by `parseDeliveryStream`.
 */

export interface BufferingHintsProperties {
  IntervalInSeconds?: number;
  SizeInMBs?: number;
}

export interface S3DestinationProperties {
  BucketARN: string;
  RoleARN?: string;
  Prefix?: string;
  ErrorOutputPrefix?: string;
  CompressionFormat?: string;
  BufferingHints?: BufferingHintsProperties;
  [property: string]: unknown;
}

export interface DeliveryStreamProperties {
  DeliveryStreamName?: string;
  DeliveryStreamType?: string;
  KinesisStreamSourceConfiguration?: { KinesisStreamARN: string; RoleARN?: string };
  ExtendedS3DestinationConfiguration?: S3DestinationProperties;
  /** The older, non-extended S3 destination; read like ExtendedS3DestinationConfiguration. */
  S3DestinationConfiguration?: S3DestinationProperties;
  DeliveryStreamEncryptionConfigurationInput?: { KeyType?: string; KeyARN?: string };
  [property: string]: unknown;
}

export type DeliveryStreamType = 'DirectPut' | 'KinesisStreamAsSource';
export type CompressionFormat = 'UNCOMPRESSED' | 'GZIP';

export interface S3Target {
  bucket: string;
  bucketArn: string;
  prefix: KeyPrefix;
  errorOutputPrefix: KeyPrefix;
  compression: CompressionFormat;
  bufferingHints: { intervalInSeconds: number; sizeInMBs: number };
}

export interface DeliveryStreamConfig {
  name: string;
  arn: string;
  type: DeliveryStreamType;
  source?: { streamName: string; streamArn: string };
  /** The S3 destination. */
  s3: S3Target;
  encrypted: boolean;
  /** As given, echoed by DescribeDeliveryStream. */
  properties: DeliveryStreamProperties;
}

export interface Account {
  region: string;
  accountId: string;
}

/** Firehose's defaults and limits for BufferingHints. */
const defaultBuffering = { intervalInSeconds: 300, sizeInMBs: 5 };
/** Where failed batches go when ErrorOutputPrefix is absent (the error type and time path follow). */
const defaultErrorOutputPrefix = 'firehose-errors/';

const deliveryStreamNamePattern = /^[a-zA-Z0-9_.-]{1,64}$/;

/** `arn:aws:s3:::bucket` → `bucket`. */
export function bucketFromArn(arn: string): string {
  const match = /^arn:[\w-]+:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])$/.exec(arn);
  if (!match?.[1]) throw invalidArgument(`BucketARN ${arn} is not an S3 bucket ARN (arn:aws:s3:::bucket).`);
  return match[1];
}

/** `arn:aws:kinesis:region:account:stream/name` → `name`. */
export function streamFromArn(arn: string): string {
  const match = /^arn:[\w-]+:kinesis:[\w-]*:\d*:stream\/([a-zA-Z0-9_.-]{1,128})$/.exec(arn);
  if (!match?.[1]) throw invalidArgument(`KinesisStreamARN ${arn} is not a Kinesis stream ARN (arn:aws:kinesis:region:account:stream/name).`);
  return match[1];
}

function deliveryStreamArn(account: Account, name: string): string {
  return `arn:aws:firehose:${account.region}:${account.accountId}:deliverystream/${name}`;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalObject(parent: JsonObject, key: string, path: string): JsonObject | undefined {
  const value = parent[key];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw invalidArgument(`${path}.${key} must be an object.`);
  return value;
}

function requiredString(parent: JsonObject, key: string, path: string): string {
  const value = parent[key];
  if (typeof value !== 'string' || value === '') throw invalidArgument(`${path}.${key} is required.`);
  return value;
}

function optionalString(parent: JsonObject, key: string, path: string): string | undefined {
  const value = parent[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidArgument(`${path}.${key} must be a string.`);
  return value;
}

/** CloudFormation templates may carry numbers as strings (`${param:…}` resolves to text). */
function optionalNumber(parent: JsonObject, key: string, path: string, min: number, max: number): number | undefined {
  const raw = parent[key];
  if (raw === undefined || raw === null) return undefined;
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(`${path}.${key} must be an integer from ${min} to ${max}.`);
  }
  return value;
}

/** Features that would change what gets delivered: refused rather than silently ignored. */
function refuseEnabled(parent: JsonObject, key: string, path: string): void {
  const value = parent[key];
  if (isObject(value) && (value.Enabled === true || value.Enabled === 'true')) {
    throw invalidArgument(`${path}.${key} is not emulated by the local Firehose.`);
  }
  if (key === 'S3BackupMode' && value !== undefined && value !== 'Disabled') {
    throw invalidArgument(`${path}.S3BackupMode ${String(value)} is not emulated by the local Firehose.`);
  }
}

function parseS3Target(properties: JsonObject, path: string): S3Target {
  const bucketArn = requiredString(properties, 'BucketARN', path);
  for (const feature of ['ProcessingConfiguration', 'DynamicPartitioningConfiguration', 'DataFormatConversionConfiguration', 'S3BackupMode']) {
    refuseEnabled(properties, feature, path);
  }
  const prefix = parsePrefix(optionalString(properties, 'Prefix', path) ?? '', 'Prefix');
  const errorOutputPrefixTemplate = optionalString(properties, 'ErrorOutputPrefix', path);
  if (hasExpressions(prefix) && !errorOutputPrefixTemplate) {
    throw invalidArgument(`${path}.ErrorOutputPrefix is required when Prefix contains expressions.`);
  }
  const compression = optionalString(properties, 'CompressionFormat', path) ?? 'UNCOMPRESSED';
  if (compression !== 'UNCOMPRESSED' && compression !== 'GZIP') {
    throw invalidArgument(`${path}.CompressionFormat ${compression} is not emulated (UNCOMPRESSED or GZIP).`);
  }
  const hints = optionalObject(properties, 'BufferingHints', path) ?? {};
  return {
    bucket: bucketFromArn(bucketArn),
    bucketArn,
    prefix,
    errorOutputPrefix: parsePrefix(errorOutputPrefixTemplate ?? defaultErrorOutputPrefix, 'ErrorOutputPrefix'),
    compression,
    bufferingHints: {
      intervalInSeconds: optionalNumber(hints, 'IntervalInSeconds', `${path}.BufferingHints`, 0, 900) ?? defaultBuffering.intervalInSeconds,
      sizeInMBs: optionalNumber(hints, 'SizeInMBs', `${path}.BufferingHints`, 1, 128) ?? defaultBuffering.sizeInMBs,
    },
  };
}

// The project loads its private warehouse from S3 (COPY through the Data API), never through Firehose's Redshift
// destination, so that destination is refused like every other one this emulator does not deliver to.
const emulatedDestinations = ['ExtendedS3DestinationConfiguration', 'S3DestinationConfiguration'];

/** Validates a definition the way CreateDeliveryStream would, failing with InvalidArgumentException. */
export function parseDeliveryStream(name: string, input: unknown, account: Account): DeliveryStreamConfig {
  if (!isObject(input)) throw invalidArgument('Delivery stream properties must be an object.');
  if (!deliveryStreamNamePattern.test(name)) throw invalidArgument(`DeliveryStreamName ${name} must match [a-zA-Z0-9_.-]{1,64}.`);
  if (input.DeliveryStreamName !== undefined && input.DeliveryStreamName !== name) {
    throw invalidArgument(`DeliveryStreamName ${String(input.DeliveryStreamName)} in the properties differs from ${name}.`);
  }
  const type = optionalString(input, 'DeliveryStreamType', 'Properties') ?? 'DirectPut';
  if (type !== 'DirectPut' && type !== 'KinesisStreamAsSource') {
    throw invalidArgument(`DeliveryStreamType ${type} is not emulated (DirectPut or KinesisStreamAsSource).`);
  }

  const sourceConfiguration = optionalObject(input, 'KinesisStreamSourceConfiguration', 'Properties');
  if (type === 'KinesisStreamAsSource' && !sourceConfiguration) {
    throw invalidArgument('KinesisStreamSourceConfiguration is required for DeliveryStreamType KinesisStreamAsSource.');
  }
  if (type === 'DirectPut' && sourceConfiguration) {
    throw invalidArgument('KinesisStreamSourceConfiguration is only allowed for DeliveryStreamType KinesisStreamAsSource.');
  }
  const streamArn = sourceConfiguration && requiredString(sourceConfiguration, 'KinesisStreamARN', 'KinesisStreamSourceConfiguration');

  const destinations = Object.keys(input).filter((key) => key.endsWith('DestinationConfiguration'));
  const unsupported = destinations.find((key) => !emulatedDestinations.includes(key));
  if (unsupported) throw invalidArgument(`${unsupported} is not emulated by the local Firehose.`);
  if (destinations.length !== 1) throw invalidArgument('Exactly one destination configuration is required.');
  const destination = destinations[0] as string;
  const destinationProperties = optionalObject(input, destination, 'Properties') ?? {};
  const s3 = parseS3Target(destinationProperties, destination);

  const encryption = optionalObject(input, 'DeliveryStreamEncryptionConfigurationInput', 'Properties');
  return {
    name,
    arn: deliveryStreamArn(account, name),
    type,
    source: streamArn ? { streamArn, streamName: streamFromArn(streamArn) } : undefined,
    s3,
    encrypted: encryption !== undefined,
    properties: input as DeliveryStreamProperties,
  };
}
