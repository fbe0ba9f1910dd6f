import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';

const STREAM_ARN = 'arn:aws:kinesis:eu-west-2:123456789012:stream/invoice-ingest-test-invoices';

/** A Kinesis record as Lambda delivers it; `data` is JSON-encoded unless it is already a string. */
export function kinesisRecord(data: unknown, sequenceNumber: string, partitionKey = 'key'): KinesisStreamRecord {
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey,
      sequenceNumber,
      data: Buffer.from(text, 'utf8').toString('base64'),
      approximateArrivalTimestamp: 1_700_000_000.5,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `shardId-000000000000:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/test',
    awsRegion: 'eu-west-2',
    eventSourceARN: STREAM_ARN,
  };
}

/** A batch of records with increasing sequence numbers (each a 56-digit number, as Kinesis gives). */
export function kinesisEvent(datas: unknown[], firstSequence = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n): KinesisStreamEvent {
  return { Records: datas.map((data, i) => kinesisRecord(data, String(firstSequence + BigInt(i)), (data as { invoiceNo?: string })?.invoiceNo ?? 'key')) };
}

export function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'processInvoices',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-2:123456789012:function:processInvoices',
    memoryLimitInMB: '512',
    awsRequestId: 'request-1',
    logGroupName: '/aws/lambda/processInvoices',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
