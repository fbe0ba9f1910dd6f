export { startLocalFirehose } from './local-firehose';
export type { BufferingOverride, LocalFirehose, LocalFirehoseOptions, PutFailureRule, RetrySettings, StopReport } from './local-firehose';
export type { DeliveryStreamStats } from './delivery-stream';
export type { StartingPosition } from './kinesis-source';
export type {
  BufferingHintsProperties,
  DeliveryStreamProperties,
  S3DestinationProperties,
} from './config';
export { bucketFromArn, streamFromArn } from './config';
export { FirehoseError } from './errors';
export { jsonObjectSpans, parseJsonObjectAt, parseJsonObjects, rowForColumns } from './json-copy';
