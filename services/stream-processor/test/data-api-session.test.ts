import { BatchExecuteStatementCommand, DescribeStatementCommand, ExecuteStatementCommand, GetStatementResultCommand } from '@aws-sdk/client-redshift-data';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { loadStagedFiles, WAREHOUSE_TABLES } from '@invoice-pipeline/warehouse';
import { dataApiSession } from '../src/warehouse/data-api-session';

/** Unit test of the Data API side of the loader's seam (no Redshift here): what it sends, in what order, and how it fails. */
const settings = {
  workgroupName: 'invoice-prod',
  database: 'analytics',
  secretArn: 'arn:aws:secretsmanager:eu-west-2:111111111111:secret:warehouse-admin',
  copyRoleArn: 'arn:aws:iam::111111111111:role/copy',
  stagingBucket: 'staging-bucket',
};

function fakeAws(statuses: { batch?: string; error?: string; loadedKeys?: string[] } = {}) {
  const sent: unknown[] = [];
  const redshift = {
    send: jest.fn(async (command: unknown) => {
      sent.push(command);
      if (command instanceof ExecuteStatementCommand) return { Id: 'q1' };
      if (command instanceof BatchExecuteStatementCommand) return { Id: 'b1' };
      if (command instanceof DescribeStatementCommand) {
        const polls = sent.filter((c) => c instanceof DescribeStatementCommand && c.input.Id === command.input.Id).length;
        if (polls === 1) return { Status: 'STARTED' };
        return command.input.Id === 'b1' ? { Status: statuses.batch ?? 'FINISHED', Error: statuses.error } : { Status: 'FINISHED' };
      }
      if (command instanceof GetStatementResultCommand) {
        const keys = statuses.loadedKeys ?? [];
        const page = command.input.NextToken ? keys.slice(1) : keys.slice(0, 1);
        return { ColumnMetadata: [{ name: 'file_key' }], Records: page.map((key) => [{ stringValue: key }]), NextToken: !command.input.NextToken && keys.length > 1 ? 't2' : undefined };
      }
      throw new Error('unexpected command');
    }),
  };
  const s3 = { send: jest.fn(async (command: unknown) => (sent.push(command), {})) };
  return { sent, session: dataApiSession(settings, { redshift, s3, sleep: async () => undefined }) };
}

const files = [
  { key: 'warehouse/2026/11/25/10/a.gz', bytes: 10 },
  { key: 'warehouse/2026/11/25/10/b.gz', bytes: 20 },
  { key: 'warehouse/2026/11/25/11/c.gz', bytes: 30 },
];

describe('the loader on the Redshift Data API', () => {
  it('skips loaded files, writes a manifest of the new ones, and runs COPY, the record and the MERGE as one batch', async () => {
    const { sent, session } = fakeAws({ loadedKeys: ['warehouse/2026/11/25/10/a.gz', 'warehouse/2026/11/25/10/b.gz'] });
    expect(await loadStagedFiles({ listStaged: async () => [...files].reverse(), session })).toEqual({ listed: 3, loaded: 1, bytes: 30, remaining: 0, moved: 0 });
    const query = sent.find((c) => c instanceof ExecuteStatementCommand) as ExecuteStatementCommand;
    expect(query.input).toMatchObject({ WorkgroupName: 'invoice-prod', Database: 'analytics', SecretArn: settings.secretArn });
    expect(query.input.Sql).toContain("file_key >= 'warehouse/2026/11/25/10/a.gz'");
    const manifest = sent.find((c) => c instanceof PutObjectCommand) as PutObjectCommand;
    expect(manifest.input.Bucket).toBe('staging-bucket');
    expect(JSON.parse(String(manifest.input.Body))).toEqual({ entries: [{ url: 's3://staging-bucket/warehouse/2026/11/25/11/c.gz', mandatory: true, meta: { content_length: 30 } }] });
    const batch = sent.find((c) => c instanceof BatchExecuteStatementCommand) as BatchExecuteStatementCommand;
    const sqls = batch.input.Sqls ?? [];
    expect(sqls[0]).toMatch(new RegExp(`^COPY ${WAREHOUSE_TABLES.staging} \\(.*\\)\\nFROM 's3://staging-bucket/${manifest.input.Key}'\\nIAM_ROLE '${settings.copyRoleArn}'\\nMANIFEST`));
    expect(sqls[1]).toBe(`INSERT INTO ${WAREHOUSE_TABLES.loadedFiles} (file_key, bytes, loaded_at) VALUES\n('warehouse/2026/11/25/11/c.gz', 30, GETDATE());`);
    expect(sqls.some((sql) => sql.startsWith('MERGE INTO'))).toBe(true);
    expect(sent.indexOf(manifest)).toBeLessThan(sent.indexOf(batch));
  });

  it('does not start a batch when nothing is new', async () => {
    const { sent, session } = fakeAws({ loadedKeys: files.map((f) => f.key) });
    expect(await loadStagedFiles({ listStaged: async () => files, session })).toMatchObject({ loaded: 0 });
    expect(sent.some((c) => c instanceof BatchExecuteStatementCommand || c instanceof PutObjectCommand)).toBe(false);
  });

  it('fails loudly with Redshift\'s error when the batch fails', async () => {
    const { session } = fakeAws({ batch: 'FAILED', error: 'Load into table invoice_lines_staging failed. Check stl_load_errors' });
    await expect(loadStagedFiles({ listStaged: async () => files, session })).rejects.toThrow(/load of 3 file\(s\) b1 FAILED: Load into table/);
  });
});
