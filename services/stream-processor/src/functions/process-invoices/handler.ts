import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { writeBadRecord } from '../../invoices/bad-records';
import { decodeInvoiceRecord } from '../../invoices/decode';
import { landInvoice } from '../../invoices/process-invoice';
import { dynamodb, firehose, s3 } from '../../lib/clients';
import { config } from './config';

const logger = new Logger();
const metrics = new Metrics({ namespace: 'InvoicePipeline' });
const processor = new BatchProcessor(EventType.KinesisDataStreams);

/**
 * One record is one invoice. A valid invoice lands in DynamoDB and the warehouse stream; an invalid one is written to
 * bad-rows/ with its reason and stream position and counts as processed (retrying cannot fix it). A record whose
 * sinks fail is reported as a batch item failure, so Lambda retries from it; nothing is dropped.
 */
async function processRecord(record: KinesisStreamRecord): Promise<void> {
  const decoded = decodeInvoiceRecord(record.kinesis.data);
  const [shardId = 'unknown'] = record.eventID.split(':');
  if (!decoded.ok) {
    const key = await writeBadRecord(
      {
        reason: decoded.reason,
        problems: decoded.problems,
        position: {
          streamArn: record.eventSourceARN,
          shardId,
          sequenceNumber: record.kinesis.sequenceNumber,
          partitionKey: record.kinesis.partitionKey,
          approximateArrivalTimestamp: record.kinesis.approximateArrivalTimestamp,
        },
        data: record.kinesis.data,
      },
      { s3, bucket: config.badRowsBucket },
    );
    logger.warn('bad record set aside', { sequenceNumber: record.kinesis.sequenceNumber, reason: decoded.reason, key });
    metrics.addMetric('BadRecords', MetricUnit.Count, 1);
    return;
  }
  const lines = await landInvoice(decoded.invoice, {
    table: { dynamodb, tableName: config.tableName },
    warehouse: { firehose, deliveryStreamName: config.warehouseDeliveryStream },
  });
  metrics.addMetric('InvoicesLanded', MetricUnit.Count, 1);
  metrics.addMetric('LinesLanded', MetricUnit.Count, lines);
}

const processInvoices = async (event: KinesisStreamEvent, context: Context) =>
  processPartialResponse(event, processRecord, processor, { context });

export const main = middy(processInvoices).use(injectLambdaContext(logger)).use(logMetrics(metrics));
