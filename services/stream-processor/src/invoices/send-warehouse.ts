import { PutRecordBatchCommand, type FirehoseClient } from '@aws-sdk/client-firehose';
import type { FieldProblem, NormalisedLine } from '@invoice-pipeline/transactions';
import { toWarehouseRow, warehouseRowProblems } from '@invoice-pipeline/warehouse';
import { chunkWithin, sendUntilAccepted, type RetryPolicy } from '@invoice-pipeline/retry';
import { SinkRefusedError } from './sink-refusal';
import { SINK_RETRY } from './sink-retry';

/** Firehose limits: 500 records and 4 MiB per PutRecordBatch, 1,000 KiB per record. */
export const MAX_RECORDS_PER_CALL = 500;
export const MAX_BYTES_PER_CALL = 4 * 1024 * 1024;
const MAX_BYTES_PER_RECORD = 1_000 * 1024;

export interface WarehouseStreamTarget {
  firehose: Pick<FirehoseClient, 'send'>;
  deliveryStreamName: string;
  retry?: RetryPolicy;
}

/**
 * Lines become newline-delimited JSON warehouse rows, packed into as few Firehose records as the 1,000 KiB limit
 * allows: Firehose bills per record rounded up to 5 KB, and Redshift's COPY ... FORMAT AS JSON reads the rows
 * whatever the record boundaries. A row the warehouse would refuse (a value out of its column's range) or larger than
 * a Firehose record refuses the whole invoice before anything is sent: one COPY file holds many invoices, and one
 * refused row fails the whole COPY.
 */
export function packWarehouseRecords(lines: NormalisedLine[], version: string): Buffer[] {
  const refused: FieldProblem[] = [];
  const rows = lines.map((line) => {
    const warehouseRow = toWarehouseRow(line, version);
    for (const problem of warehouseRowProblems(warehouseRow)) refused.push({ ...problem, path: `lines[${line.lineNo - 1}].${problem.path}` });
    return `${JSON.stringify(warehouseRow)}\n`;
  });
  if (refused.length) throw new SinkRefusedError('warehouse', refused);
  // A string of n UTF-16 units is at most 3n UTF-8 bytes: nearly every invoice surely fits one record, made at once.
  if (rows.reduce((units, row) => units + row.length, 0) * 3 <= MAX_BYTES_PER_RECORD) return [Buffer.from(rows.join(''))];
  const rowBuffers = rows.map((text, index) => {
    const row = Buffer.from(text);
    if (row.length > MAX_BYTES_PER_RECORD) {
      throw new SinkRefusedError('Firehose', [{ path: `lines[${(lines[index]?.lineNo ?? index + 1) - 1}]`, message: `row of ${row.length} bytes exceeds a Firehose record (${MAX_BYTES_PER_RECORD})` }]);
    }
    return row;
  });
  return chunkWithin(rowBuffers, { maxBytes: MAX_BYTES_PER_RECORD }, (row) => row.length).map((run) => Buffer.concat(run));
}

/** Sends packed records to the warehouse delivery stream; records Firehose did not accept (FailedPutCount) are retried. */
export async function sendToWarehouse(records: Buffer[], target: WarehouseStreamTarget): Promise<void> {
  for (const call of chunkWithin(records, { maxCount: MAX_RECORDS_PER_CALL, maxBytes: MAX_BYTES_PER_CALL }, (record) => record.length)) {
    await sendUntilAccepted(
      call,
      async (pending) => {
        const reply = await target.firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: target.deliveryStreamName, Records: pending.map((Data) => ({ Data })) }));
        if (!reply.FailedPutCount) return [];
        return pending.filter((_, index) => reply.RequestResponses?.[index]?.ErrorCode);
      },
      target.retry ?? SINK_RETRY,
      `Firehose ${target.deliveryStreamName}`,
    );
  }
}
