import { S3_PREFIXES } from '@invoice-pipeline/transactions';
import { ensurePackaged } from '../src/ensure-packaged';
import { prop, type StageTemplates } from '../src/templates';

/**
 * The S3 prefixes live in transactions (storage-layout.ts), where the code that writes and reads them takes them;
 * serverless.yml cannot import them, so this holds its copies (Firehose prefixes, IAM resources, event rules,
 * lifecycle rules) to the same values.
 */
let templates: StageTemplates;
beforeAll(async () => {
  templates = await ensurePackaged('prod');
}, 600_000);

const resourceOf = (service: string, id: string) => {
  const found = templates[service]?.Resources[id];
  if (!found) throw new Error(`${service}/${id} not in the template`);
  return found;
};

describe('the packaged templates use the storage layout of transactions', () => {
  it('the raw archive delivery stream writes under raw/ and its errors under firehose-errors/', () => {
    const destination = prop(resourceOf('stream-processor', 'RawArchiveDeliveryStream'), 'Properties', 'ExtendedS3DestinationConfiguration');
    expect(String(prop(destination, 'Prefix'))).toMatch(new RegExp(`^${S3_PREFIXES.raw}`));
    expect(String(prop(destination, 'ErrorOutputPrefix'))).toMatch(new RegExp(`^${S3_PREFIXES.firehoseErrors}`));
  });

  it('the warehouse delivery stream stages under warehouse/, where the loader lists, and the loader writes manifests/ only', () => {
    const destination = prop(resourceOf('stream-processor', 'WarehouseDeliveryStream'), 'Properties', 'ExtendedS3DestinationConfiguration');
    expect(String(prop(destination, 'Prefix'))).toMatch(new RegExp(`^${S3_PREFIXES.warehouseStaged}`));
    expect(String(prop(destination, 'ErrorOutputPrefix'))).toMatch(new RegExp(`^${S3_PREFIXES.firehoseErrors}`));
    const loader = JSON.stringify(resourceOf('stream-processor', 'MergeWarehouseRole'));
    expect(loader).toContain(`"s3:prefix":["${S3_PREFIXES.warehouseStaged}*"]`);
    expect(loader).toContain(`StagingBucketArn/${S3_PREFIXES.copyManifests}*`);
  });

  it('the loader moves loaded files from warehouse/ to loaded/: only loaded/ and manifests/ expire, with grants to match', () => {
    const rules = prop(resourceOf('warehouse', 'StagingBucket'), 'Properties', 'LifecycleConfiguration', 'Rules') as Array<{ Prefix?: string; Status?: string }>;
    const expiring = rules.filter((rule) => rule.Status === 'Enabled').map((rule) => rule.Prefix);
    expect([...expiring].sort()).toEqual([S3_PREFIXES.warehouseLoaded, S3_PREFIXES.copyManifests].sort());
    // Nothing not yet loaded (warehouse/) or not yet replayed (firehose-errors/) expires, not even by an empty prefix.
    for (const prefix of expiring) expect(prefix).toBeTruthy();

    const statements = prop(resourceOf('stream-processor', 'MergeWarehouseRole'), 'Properties', 'Policies') as Array<{ PolicyDocument: { Statement: Array<{ Action: string[]; Resource: unknown }> } }>;
    const grants = statements.flatMap((policy) => policy.PolicyDocument.Statement).flatMap((statement) =>
      statement.Action.filter((action) => action.startsWith('s3:') && action !== 's3:ListBucket').flatMap((action) =>
        [statement.Resource].flat().map((resource) => `${action} ${JSON.stringify(resource).replace(/.*StagingBucketArn\//, '').replace(/"$/, '')}`),
      ),
    );
    expect(grants.sort()).toEqual(
      [
        `s3:PutObject ${S3_PREFIXES.copyManifests}*`,
        `s3:PutObject ${S3_PREFIXES.warehouseLoaded}*`,
        `s3:GetObject ${S3_PREFIXES.warehouseStaged}*`,
        `s3:DeleteObject ${S3_PREFIXES.warehouseStaged}*`,
      ].sort(),
    );
  });

  it('the stream processor may write its bad records under bad-rows/ only', () => {
    const role = JSON.stringify(resourceOf('stream-processor', 'ProcessInvoicesRole'));
    expect(role).toContain(`\${ArchiveBucket.Arn}/${S3_PREFIXES.badRows}*`);
  });

  it('a dump is loaded from incoming/, and processed/ and rejected/ expire', () => {
    const rules = JSON.stringify(Object.values(templates['batch-loader']?.Resources ?? {}).filter((r) => r.Type === 'AWS::Events::Rule'));
    expect(rules).toContain(`"prefix":"${S3_PREFIXES.incoming}"`);
    const lifecycle = prop(resourceOf('batch-loader', 'DumpsBucket'), 'Properties', 'LifecycleConfiguration', 'Rules') as Array<{ Prefix?: string }>;
    expect(lifecycle.map((rule) => rule.Prefix)).toEqual(expect.arrayContaining([S3_PREFIXES.processed, S3_PREFIXES.rejected]));
  });
});
