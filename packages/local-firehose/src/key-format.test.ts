import { parseDeliveryStream } from './config';
import { FirehoseError } from './errors';
import { formatTimestamp, objectName, parsePrefix, renderErrorPrefix, renderPrefix } from './key-format';

const at = new Date('2024-02-29T23:05:09.042Z');
const account = { region: 'eu-west-2', accountId: '123456789012' };

describe('prefix expressions', () => {
  it('evaluates Java-style timestamp patterns in UTC', () => {
    expect(formatTimestamp(at, 'yyyy-MM-dd')).toBe('2024-02-29');
    expect(formatTimestamp(at, "yy/M/d/H'h'mm:ss.SSS DDD")).toBe('24/2/29/23h05:09.042 060');
  });

  it('evaluates the raw archive prefix of the stream processor', () => {
    const prefix = parsePrefix('raw/dt=!{timestamp:yyyy-MM-dd}/', 'Prefix');
    expect(renderPrefix(prefix, at)).toBe('raw/dt=2024-02-29/');
  });

  it('adds the default yyyy/MM/dd/HH/ after a prefix without expressions, as Firehose does', () => {
    expect(renderPrefix(parsePrefix('warehouse/', 'Prefix'), at)).toBe('warehouse/2024/02/29/23/');
    expect(renderPrefix(parsePrefix('', 'Prefix'), at)).toBe('2024/02/29/23/');
  });

  it('fills !{firehose:error-output-type}, or appends the type when the prefix has none', () => {
    const typed = parsePrefix('firehose-errors/raw/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/', 'ErrorOutputPrefix');
    expect(renderErrorPrefix(typed, at, 's3-failed')).toBe('firehose-errors/raw/s3-failed/dt=2024-02-29/');
    const plain = parsePrefix('firehose-errors/warehouse/', 'ErrorOutputPrefix');
    expect(renderErrorPrefix(plain, at, 'redshift-failed')).toBe('firehose-errors/warehouse/redshift-failed/2024/02/29/23/');
  });

  it('makes an 11-character random string per object', () => {
    const prefix = parsePrefix('x/!{firehose:random-string}/', 'Prefix');
    const first = renderPrefix(prefix, at);
    expect(first).toMatch(/^x\/[A-Za-z0-9]{11}\/$/);
    expect(renderPrefix(prefix, at)).not.toBe(first);
  });

  it('names objects {stream}-{version}-{yyyy-MM-dd-HH-mm-ss}-{uuid}', () => {
    expect(objectName('raw-archive', 1, at, '.gz')).toMatch(/^raw-archive-1-2024-02-29-23-05-09-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}\.gz$/);
  });

  it.each([
    ['a/!{firehose:error-output-type}/', 'Prefix', /only allowed in ErrorOutputPrefix/],
    ['a/!{timestamp:yyyy-QQ}/', 'Prefix', /not supported/],
    ['a/!{partitionKeyFromQuery:id}/', 'Prefix', /Dynamic partitioning/],
    ['a/!{unknown:x}/', 'Prefix', /Unsupported expression/],
    ['a/!{timestamp:yyyy', 'Prefix', /Unterminated/],
  ] as const)('rejects %s in %s', (template, field, message) => {
    expect(() => parsePrefix(template, field)).toThrow(message);
  });
});

describe('delivery stream definitions', () => {
  const rawArchive = {
    DeliveryStreamType: 'KinesisStreamAsSource',
    KinesisStreamSourceConfiguration: { KinesisStreamARN: 'arn:aws:kinesis:eu-west-2:123456789012:stream/invoices', RoleARN: 'arn:aws:iam::1:role/r' },
    ExtendedS3DestinationConfiguration: {
      BucketARN: 'arn:aws:s3:::archive-bucket',
      Prefix: 'raw/dt=!{timestamp:yyyy-MM-dd}/',
      ErrorOutputPrefix: 'firehose-errors/raw/!{firehose:error-output-type}/',
      CompressionFormat: 'GZIP',
      BufferingHints: { IntervalInSeconds: '1', SizeInMBs: 5 },
    },
  };

  it('resolves ARNs to names and reads the buffering hints (numbers may be strings in templates)', () => {
    const config = parseDeliveryStream('raw', rawArchive, account);
    expect(config.arn).toBe('arn:aws:firehose:eu-west-2:123456789012:deliverystream/raw');
    expect(config.source?.streamName).toBe('invoices');
    expect(config.s3).toMatchObject({ bucket: 'archive-bucket', compression: 'GZIP', bufferingHints: { intervalInSeconds: 1, sizeInMBs: 5 } });
  });

  it.each([
    ['a prefix with expressions but no ErrorOutputPrefix', { ExtendedS3DestinationConfiguration: { BucketARN: 'arn:aws:s3:::bucket-1', Prefix: 'dt=!{timestamp:yyyy}/' } }, /ErrorOutputPrefix is required/],
    ['a bucket name instead of an ARN', { ExtendedS3DestinationConfiguration: { BucketARN: 'b1' } }, /not an S3 bucket ARN/],
    ['a buffer over 128 MB', { ExtendedS3DestinationConfiguration: { BucketARN: 'arn:aws:s3:::bucket-1', BufferingHints: { SizeInMBs: 129 } } }, /SizeInMBs/],
    ['an unemulated compression', { ExtendedS3DestinationConfiguration: { BucketARN: 'arn:aws:s3:::bucket-1', CompressionFormat: 'Snappy' } }, /Snappy/],
    ['a Lambda transform', { ExtendedS3DestinationConfiguration: { BucketARN: 'arn:aws:s3:::bucket-1', ProcessingConfiguration: { Enabled: true } } }, /ProcessingConfiguration/],
    ['an unemulated destination', { HttpEndpointDestinationConfiguration: {} }, /not emulated/],
    ['no destination', {}, /Exactly one destination/],
    ['a Kinesis source without its configuration', { DeliveryStreamType: 'KinesisStreamAsSource', ExtendedS3DestinationConfiguration: { BucketARN: 'arn:aws:s3:::bucket-1' } }, /KinesisStreamSourceConfiguration is required/],
    [
      'a Redshift destination (the warehouse is loaded from S3 by the project, not by Firehose)',
      { RedshiftDestinationConfiguration: { CopyCommand: { DataTableName: 't', DataTableColumns: 'a' }, S3Configuration: { BucketARN: 'arn:aws:s3:::bucket-1' } } },
      /RedshiftDestinationConfiguration is not emulated/,
    ],
  ])('rejects %s with InvalidArgumentException', (_case, properties, message) => {
    const attempt = () => parseDeliveryStream('s', properties, account);
    expect(attempt).toThrow(FirehoseError);
    expect(attempt).toThrow(message);
  });
});
