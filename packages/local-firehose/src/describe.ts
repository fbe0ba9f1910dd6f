import type { DeliveryStreamConfig, S3DestinationProperties, S3Target } from './config';

/** The `DeliveryStreamDescription` of DescribeDeliveryStream, in the JSON API's shape (timestamps in epoch seconds). */

function s3Description(target: S3Target, given: S3DestinationProperties | undefined) {
  return {
    RoleARN: given?.RoleARN ?? '',
    BucketARN: target.bucketArn,
    ...(target.prefix.template ? { Prefix: target.prefix.template } : {}),
    ...(given?.ErrorOutputPrefix ? { ErrorOutputPrefix: given.ErrorOutputPrefix } : {}),
    BufferingHints: { IntervalInSeconds: target.bufferingHints.intervalInSeconds, SizeInMBs: target.bufferingHints.sizeInMBs },
    CompressionFormat: target.compression,
    EncryptionConfiguration: { NoEncryptionConfig: 'NoEncryption' },
    CloudWatchLoggingOptions: { Enabled: false },
  };
}

function destinationDescription(config: DeliveryStreamConfig) {
  const { properties } = config;
  const s3 = properties.ExtendedS3DestinationConfiguration ?? properties.S3DestinationConfiguration;
  return { ExtendedS3DestinationDescription: { ...s3Description(config.s3, s3), S3BackupMode: 'Disabled' } };
}

export function describeDeliveryStream(config: DeliveryStreamConfig, createdAt: Date) {
  const createTimestamp = createdAt.getTime() / 1000;
  return {
    DeliveryStreamName: config.name,
    DeliveryStreamARN: config.arn,
    // Created streams are usable at once locally (AWS spends some seconds in CREATING).
    DeliveryStreamStatus: 'ACTIVE',
    DeliveryStreamType: config.type,
    VersionId: '1',
    CreateTimestamp: createTimestamp,
    DeliveryStreamEncryptionConfiguration: config.encrypted
      ? { KeyType: config.properties.DeliveryStreamEncryptionConfigurationInput?.KeyType ?? 'AWS_OWNED_CMK', Status: 'ENABLED' }
      : { Status: 'DISABLED' },
    ...(config.source
      ? {
          Source: {
            KinesisStreamSourceDescription: {
              KinesisStreamARN: config.source.streamArn,
              RoleARN: config.properties.KinesisStreamSourceConfiguration?.RoleARN ?? '',
              DeliveryStartTimestamp: createTimestamp,
            },
          },
        }
      : {}),
    Destinations: [{ DestinationId: 'destinationId-000000000001', ...destinationDescription(config) }],
    HasMoreDestinations: false,
  };
}
