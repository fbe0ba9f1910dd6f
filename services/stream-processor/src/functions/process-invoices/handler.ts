import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { recordVersion, type FieldProblem, type Invoice } from '@invoice-pipeline/transactions';
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { createDocumentClient } from '../../clients/dynamodb';
import { createFirehoseClient } from '../../clients/firehose';
import { createS3Client } from '../../clients/s3';
import { writeBadRecord, type BadRecord } from '../../invoices/bad-records';
import { decodeInvoiceRecord, type Decoded } from '../../invoices/decode';
import { supersededInBatch } from '../../invoices/newest-in-batch';
import { landInvoice, type Landed } from '../../invoices/process-invoice';
import { SinkRefusedError } from '../../invoices/sink-refusal';
import { logger as serviceLogger, metrics as serviceMetrics } from '../../lib/observability';
import { readConfig } from './config';

export interface ProcessInvoicesDependencies {
  /** Lands one valid invoice at a version in DynamoDB and on the warehouse stream (landInvoice with the clients). */
  land(invoice: Invoice, version: string): Promise<Landed>;
  /** Writes a record that cannot land to bad-rows/ with its reason and stream position; returns its key. */
  setAside(record: BadRecord): Promise<string>;
  logger: Logger;
  metrics: Metrics;
}

/**
 * One record is one invoice, versioned by its sequence number. A valid invoice replaces its older versions in DynamoDB
 * and the warehouse stream; an invalid one, or one a sink refuses, is written to bad-rows/ with its reason and stream
 * position and counts as processed (retrying cannot fix it). A record whose sinks fail is reported as a batch item
 * failure, so Lambda retries from it; nothing is dropped.
 */
export function createHandler(deps: ProcessInvoicesDependencies) {
  const { logger, metrics } = deps;
  const processor = new BatchProcessor(EventType.KinesisDataStreams);

  async function setAside(record: KinesisStreamRecord, reason: string, problems: FieldProblem[]): Promise<void> {
    const [shardId = 'unknown'] = record.eventID.split(':');
    const key = await deps.setAside({
      reason,
      problems,
      position: {
        streamArn: record.eventSourceARN,
        shardId,
        sequenceNumber: record.kinesis.sequenceNumber,
        partitionKey: record.kinesis.partitionKey,
        approximateArrivalTimestamp: record.kinesis.approximateArrivalTimestamp,
      },
      data: record.kinesis.data,
    });
    logger.warn('bad record set aside', { sequenceNumber: record.kinesis.sequenceNumber, reason, key });
    metrics.addMetric('BadRecords', MetricUnit.Count, 1);
  }

  async function processRecord(record: KinesisStreamRecord, decoded: Decoded, superseded: boolean): Promise<void> {
    if (!decoded.ok) return setAside(record, decoded.reason, decoded.problems);
    if (superseded) {
      metrics.addMetric('InvoicesSuperseded', MetricUnit.Count, 1);
      return;
    }
    try {
      const landed = await deps.land(decoded.invoice, recordVersion(record.kinesis.sequenceNumber));
      metrics.addMetric(landed.status === 'landed' ? 'InvoicesLanded' : 'InvoicesSuperseded', MetricUnit.Count, 1);
      if (landed.status === 'landed') metrics.addMetric('LinesLanded', MetricUnit.Count, landed.lines);
    } catch (error) {
      if (!(error instanceof SinkRefusedError)) throw error;
      await setAside(record, error.message, error.problems);
    }
  }

  const processInvoices = async (event: KinesisStreamEvent, context: Context) => {
    const decoded = new Map(event.Records.map((record) => [record.kinesis.sequenceNumber, decodeInvoiceRecord(record.kinesis.data)]));
    const superseded = supersededInBatch([...decoded].map(([sequenceNumber, result]) => ({ sequenceNumber, decoded: result })));
    return processPartialResponse(
      event,
      (record: KinesisStreamRecord) => processRecord(record, decoded.get(record.kinesis.sequenceNumber) as Decoded, superseded.has(record.kinesis.sequenceNumber)),
      processor,
      { context },
    );
  };

  return middy(processInvoices).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}

/** Created once per container: configuration is read and checked here, so a bad one fails at cold start. */
export const main = (() => {
  const config = readConfig();
  const sinks = {
    table: { dynamodb: createDocumentClient(), tableName: config.tableName },
    warehouse: { firehose: createFirehoseClient(), deliveryStreamName: config.warehouseDeliveryStream },
  };
  const s3 = createS3Client();
  return createHandler({
    land: (invoice, version) => landInvoice(invoice, version, sinks),
    setAside: (record) => writeBadRecord(record, { s3, bucket: config.badRowsBucket }),
    logger: serviceLogger,
    metrics: serviceMetrics,
  });
})();
