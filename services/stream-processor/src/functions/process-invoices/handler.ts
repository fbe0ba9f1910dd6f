import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { recordVersion, type FieldProblem } from '@invoice-pipeline/transactions';
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { createDocumentClient } from '../../clients/dynamodb';
import { createFirehoseClient } from '../../clients/firehose';
import { createS3Client } from '../../clients/s3';
import { writeBadRecord, type BadRecord } from '../../invoices/bad-records';
import { decodeInvoiceRecord, type Decoded } from '../../invoices/decode';
import { supersededInBatch } from '../../invoices/newest-in-batch';
import { landInvoices, type BatchInvoice, type Outcome } from '../../invoices/land-batch';
import { logger as serviceLogger, metrics as serviceMetrics } from '../../lib/observability';
import { readConfig } from './config';

export interface ProcessInvoicesDependencies {
  /**
   * Lands the valid invoices of a batch (the newest version of each) in DynamoDB and on the warehouse stream with
   * batched calls, and says what became of each, by id (landInvoices with the clients).
   */
  land(invoices: BatchInvoice[]): Promise<Map<string, Outcome>>;
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

  async function processRecord(record: KinesisStreamRecord, decoded: Decoded, outcome: Outcome | 'superseded in batch' | undefined): Promise<void> {
    if (!decoded.ok) return setAside(record, decoded.reason, decoded.problems);
    // Superseded in the batch: a newer version of the invoice in this batch is the one landed.
    if (outcome === 'superseded in batch' || outcome?.status === 'superseded') return void metrics.addMetric('InvoicesSuperseded', MetricUnit.Count, 1);
    if (!outcome) throw new Error(`no outcome for record ${record.kinesis.sequenceNumber}`);
    if (outcome.status === 'refused') return setAside(record, outcome.error.message, outcome.error.problems);
    if (outcome.status === 'failed') throw outcome.error;
    metrics.addMetric('InvoicesLanded', MetricUnit.Count, 1);
    metrics.addMetric('LinesLanded', MetricUnit.Count, outcome.lines);
  }

  /** The whole batch lands first (batched sink calls); then each record is reported from what became of it. */
  const processInvoices = async (event: KinesisStreamEvent, context: Context) => {
    const decoded = new Map(event.Records.map((record) => [record.kinesis.sequenceNumber, decodeInvoiceRecord(record.kinesis.data)]));
    const superseded = supersededInBatch([...decoded].map(([sequenceNumber, result]) => ({ sequenceNumber, decoded: result })));
    const newest: BatchInvoice[] = [];
    for (const [id, result] of decoded) if (result.ok && !superseded.has(id)) newest.push({ id, invoice: result.invoice, version: recordVersion(id) });
    const outcomes = newest.length ? await deps.land(newest) : new Map<string, Outcome>();
    return processPartialResponse(
      event,
      (record: KinesisStreamRecord) => {
        const id = record.kinesis.sequenceNumber;
        return processRecord(record, decoded.get(id) as Decoded, superseded.has(id) ? 'superseded in batch' : outcomes.get(id));
      },
      // A processor per invocation: it holds the batch's records and outcomes while they are reported, and two
      // invocations in one process at once (two shards under the local in-process runner) must not share them.
      new BatchProcessor(EventType.KinesisDataStreams),
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
    land: (invoices) => landInvoices(invoices, sinks),
    setAside: (record) => writeBadRecord(record, { s3, bucket: config.badRowsBucket }),
    logger: serviceLogger,
    metrics: serviceMetrics,
  });
})();
