import { stageOutputs } from './endpoints';

describe('stageOutputs', () => {
  const outputs = {
    ingest: { StreamName: 'invoice-ingest-local-invoices', StreamArn: 'arn:aws:kinesis:eu-west-2:000000000000:stream/invoice-ingest-local-invoices' },
    'stream-processor': { TableName: 'invoice-stream-processor-local-invoices', ArchiveBucketName: 'archive' },
  };

  it('names each output by what it is, from the service that outputs it', () => {
    const out = stageOutputs({ outputs });
    expect(out.streamName).toBe('invoice-ingest-local-invoices');
    expect(out.tableName).toBe('invoice-stream-processor-local-invoices');
    expect(out.archiveBucket).toBe('archive');
  });

  it('reads an output only when asked, and names a missing one with its service', () => {
    const out = stageOutputs({ outputs });
    expect(() => out.dumpsBucket).toThrow('endpoints.json has no output DumpsBucketName of the batch-loader service');
  });
});
