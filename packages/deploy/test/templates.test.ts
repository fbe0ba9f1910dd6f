import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { ensurePackaged } from '../src/ensure-packaged';
import { RULES, STAR_RESOURCE_ACTIONS, type Rule } from '../src/rules';
import { validateAgainstSpec } from '../src/spec';
import { clone, prop, resourcesOfType, type StageTemplates, type Template } from '../src/templates';

/**
 * The packaged CloudFormation of every service (`pnpm package --stage <stage>`), held to the project's rules the way
 * aws-cdk-lib/assertions tests a synthesized stack. Each rule is also shown to fail on a template broken on purpose.
 */
const STAGES = ['prod', 'dev'] as const;
const stages: Record<string, StageTemplates> = {};

beforeAll(async () => {
  for (const stage of STAGES) stages[stage] = await ensurePackaged(stage);
}, 600_000);

const prod = () => stages.prod as StageTemplates;
const resource = (t: StageTemplates, service: string, id: string) => {
  const found = (t[service] as Template).Resources[id];
  if (!found) throw new Error(`${service}/${id} not in the template`);
  return found;
};
const props = (t: StageTemplates, service: string, id: string) => resource(t, service, id).Properties as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe.each(STAGES)('stage %s', (stage) => {
  it('every type, property and attribute exists in the CloudFormation resource specification', () => {
    expect(validateAgainstSpec(stages[stage] as StageTemplates)).toEqual([]);
  });

  it.each(RULES.filter((rule) => !rule.stages || rule.stages.includes(stage)).map((rule) => [rule.name, rule] as const))('%s', (_name, rule: Rule) => {
    expect(rule.check(stages[stage] as StageTemplates)).toEqual([]);
  });
});

/** One mutation per rule: what a careless edit of a serverless.yml would do. */
const MUTATIONS: Record<string, (t: StageTemplates) => void> = {
  'every resource the architecture needs exists': (t) => {
    delete (t['stream-processor'] as Template).Resources.FailureQueue;
  },
  'the Kinesis event source reports partial failures, bisects, bounds retries and age, and keeps failures': (t) => {
    const [mapping] = resourcesOfType(t, 'AWS::Lambda::EventSourceMapping');
    delete mapping?.resource.Properties?.DestinationConfig;
  },
  'every delivery stream buffers, writes error output, logs errors and has a role of its own': (t) => {
    props(t, 'stream-processor', 'RawArchiveDeliveryStream').ExtendedS3DestinationConfiguration.CloudWatchLoggingOptions.Enabled = false;
  },
  'the Glue job is bounded and pins the Spark settings its transform relies on; the crawler uses the invoice classifier': (t) => {
    props(t, 'batch-loader', 'LoadDumpJob').DefaultArguments['--conf'] = 'spark.sql.ansi.enabled=false';
  },
  'POST /invoices needs an API key, and every key has a usage plan with throttle and quota': (t) => {
    const [post] = resourcesOfType(t, 'AWS::ApiGateway::Method').filter((m) => m.resource.Properties?.HttpMethod === 'POST');
    if (post?.resource.Properties) post.resource.Properties.ApiKeyRequired = false;
  },
  'each function has a role of its own allowing exactly its actions, on resources narrower than * (listed exceptions)': (t) => {
    props(t, 'stream-processor', 'ProcessInvoicesRole').Policies[0].PolicyDocument.Statement.push({ Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: '*' });
  },
  'encryption at rest everywhere (KMS where the service offers it)': (t) => {
    delete props(t, 'stream-processor', 'FailureQueue').KmsMasterKeyId;
  },
  'buckets block public access and refuse requests without TLS': (t) => {
    delete (t.warehouse as Template).Resources.StagingBucketPolicy;
  },
  'point-in-time recovery on every table': (t) => {
    props(t, 'stream-processor', 'InvoiceTable').PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled = false;
  },
  'alarms cover every loss path and notify the alarm topic': (t) => {
    delete (t['stream-processor'] as Template).Resources.IteratorAgeAlarm;
  },
  'the warehouse loader runs on an enabled schedule': (t) => {
    props(t, 'stream-processor', 'MergeWarehouseEventsRuleSchedule1').State = 'DISABLED';
  },
  'every log group has a retention': (t) => {
    delete props(t, 'stream-processor', 'WarehouseDeliveryLogGroup').RetentionInDays;
  },
  'no secret, password or placeholder account in any template': (t) => {
    props(t, 'warehouse', 'Namespace').AdminUserPassword = 'hunter2-Hunter2';
  },
  'the warehouse is private: no public endpoint, no ingress from anywhere': (t) => {
    props(t, 'warehouse', 'WarehouseSecurityGroup').SecurityGroupIngress = [{ IpProtocol: 'tcp', FromPort: 5439, ToPort: 5439, CidrIp: '0.0.0.0/0' }];
  },
  'stateful resources are retained in prod and the table is deletion-protected': (t) => {
    resource(t, 'stream-processor', 'InvoiceTable').DeletionPolicy = 'Delete';
  },
};

describe('each rule fails on a template broken on purpose', () => {
  it('every rule has a mutation', () => {
    expect(RULES.map((rule) => rule.name).filter((name) => !MUTATIONS[name])).toEqual([]);
  });

  it.each(RULES.map((rule) => [rule.name, rule] as const))('%s', (name, rule: Rule) => {
    const mutated = clone(prod());
    MUTATIONS[name]?.(mutated);
    expect(rule.check(mutated)).not.toEqual([]);
  });

  it('more cases of the least-privilege rule: a shared role, the default role, a wildcard action, a listed * exception', () => {
    const rule = RULES.find((r) => r.name.startsWith('each function has a role')) as Rule;
    const shared = clone(prod());
    props(shared, 'stream-processor', 'HealthLambdaFunction').Role = { 'Fn::GetAtt': ['ProcessInvoicesRole', 'Arn'] };
    expect(rule.check(shared).join('\n')).toMatch(/shares role ProcessInvoicesRole/);
    const wildcard = clone(prod());
    props(wildcard, 'ingest', 'PostInvoicesRole').Policies[1].PolicyDocument.Statement[0].Action = 'kinesis:*';
    expect(rule.check(wildcard).join('\n')).toMatch(/wildcard action kinesis:\*/);
    const defaultRole = clone(prod());
    (defaultRole.ingest as Template).Resources.IamRoleLambdaExecution = { Type: 'AWS::IAM::Role', Properties: {} };
    expect(rule.check(defaultRole).join('\n')).toMatch(/default role/);
    expect(Object.keys(STAR_RESOURCE_ACTIONS)).toContain('redshift-data:DescribeStatement');
  });

  it('the spec check catches a misspelt property, a wrong nesting, an unknown type and a missing attribute', () => {
    const mutated = clone(prod());
    const firehose = props(mutated, 'stream-processor', 'RawArchiveDeliveryStream').ExtendedS3DestinationConfiguration;
    firehose.BufferingHint = firehose.BufferingHints;
    props(mutated, 'ingest', 'InvoiceStream').StreamEncryption = 'KMS';
    (mutated.monitoring as Template).Resources.Typo = { Type: 'AWS::SNS::Topics', Properties: {} };
    (mutated.warehouse as Template).Outputs = { Bad: { Value: { 'Fn::GetAtt': ['Workgroup', 'Workgroup.Endpont.Address'] } } };
    const problems = validateAgainstSpec(mutated).join('\n');
    expect(problems).toMatch(/RawArchiveDeliveryStream\.ExtendedS3DestinationConfiguration\.BufferingHint: no such property/);
    expect(problems).toMatch(/InvoiceStream\.StreamEncryption: expected an object/);
    expect(problems).toMatch(/unknown resource type AWS::SNS::Topics/);
    expect(problems).toMatch(/has no attribute Workgroup\.Endpont\.Address/);
  });
});

describe('what a stage is given', () => {
  it('prod sizes for production and dev stays small (stage settings differ where the table says)', () => {
    expect(props(prod(), 'ingest', 'InvoiceStream').ShardCount).toBe(4);
    expect(props(stages.dev as StageTemplates, 'ingest', 'InvoiceStream').ShardCount).toBe(1);
    expect(prop(props(prod(), 'stream-processor', 'WarehouseDeliveryStream'), 'ExtendedS3DestinationConfiguration', 'BufferingHints')).toEqual({ IntervalInSeconds: 300, SizeInMBs: 64 });
    expect(resource(stages.dev as StageTemplates, 'stream-processor', 'InvoiceTable').DeletionPolicy).toBe('Delete');
    // Ingest's 30 s timeout is the local stage's alone (serverless-offline counts a cold start inside it; Lambda does not).
    for (const t of [prod(), stages.dev as StageTemplates]) {
      const ingestFunctions = resourcesOfType(t, 'AWS::Lambda::Function').filter((found) => found.service === 'ingest');
      expect(ingestFunctions.length).toBeGreaterThan(1);
      expect(new Set(ingestFunctions.map((found) => (found.resource.Properties as { Timeout?: number }).Timeout))).toEqual(new Set([10]));
    }
  });

  it('services are wired through compose outputs: the processor reads the ingest stream and the warehouse staging bucket', () => {
    const role = JSON.stringify(props(prod(), 'stream-processor', 'ProcessInvoicesRole'));
    expect(role).toContain('ingest/StreamArn');
    expect(JSON.stringify(props(prod(), 'stream-processor', 'WarehouseFirehoseRole'))).toContain('warehouse/StagingBucketArn');
    expect(JSON.stringify(props(prod(), 'stream-processor', 'MergeWarehouseRole'))).toContain('warehouse/WorkgroupArn');
  });

  it('the private warehouse is loaded from S3: Firehose stages files, the loader alone reaches the workgroup, on its own resources', () => {
    const stream = props(prod(), 'stream-processor', 'WarehouseDeliveryStream');
    expect(stream.RedshiftDestinationConfiguration).toBeUndefined();
    expect(stream.ExtendedS3DestinationConfiguration.Prefix).toMatch(/^warehouse\//);
    expect(JSON.stringify(stream.ExtendedS3DestinationConfiguration.BucketARN)).toContain('warehouse/StagingBucketArn');
    expect(JSON.stringify(props(prod(), 'stream-processor', 'WarehouseFirehoseRole'))).not.toContain('secretsmanager');
    const statements = props(prod(), 'stream-processor', 'MergeWarehouseRole').Policies[0].PolicyDocument.Statement as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const grant = (action: string) => statements.filter((s) => [s.Action].flat().includes(action));
    expect(JSON.stringify(grant('redshift-data:BatchExecuteStatement').map((s) => s.Resource))).toMatch(/^\["[^"]*warehouse\/WorkgroupArn"\]$/);
    expect(JSON.stringify(grant('redshift-data:ExecuteStatement').map((s) => s.Resource))).toMatch(/^\["[^"]*warehouse\/WorkgroupArn"\]$/);
    expect(grant('s3:ListBucket').map((s) => s.Condition)).toEqual([{ StringLike: { 's3:prefix': ['warehouse/*'] } }]);
    // Manifests, and the copy of each loaded file under loaded/; a loaded file is read and deleted under warehouse/ only.
    expect(JSON.stringify(grant('s3:PutObject').map((s) => s.Resource))).toMatch(/^\[\["[^"]*warehouse\/StagingBucketArn\/manifests\/\*","[^"]*warehouse\/StagingBucketArn\/loaded\/\*"\]\]$/);
    for (const action of ['s3:GetObject', 's3:DeleteObject']) expect(JSON.stringify(grant(action).map((s) => s.Resource))).toMatch(/^\["[^"]*warehouse\/StagingBucketArn\/warehouse\/\*"\]$/);
    const loader = props(prod(), 'stream-processor', 'MergeWarehouseLambdaFunction');
    expect(loader.ReservedConcurrentExecutions).toBe(1);
    expect(JSON.stringify(loader.Environment.Variables)).toContain('warehouse/CopyRoleArn');
  });

  it('a deploy setting that is missing fails packaging with its name', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_EC2_METADATA_DISABLED: 'true', AWS_ACCOUNT_ID: '000000000000' };
    delete env.WAREHOUSE_VPC_ID;
    const sls = resolve(__dirname, '../../../node_modules/.bin/sls');
    const failure = await promisify(execFile)(sls, ['print', '--stage', 'prod'], { cwd: resolve(__dirname, '../../../services/warehouse'), env }).then(
      () => undefined,
      (error: { stdout: string; stderr: string }) => `${error.stdout}${error.stderr}`,
    );
    expect(failure).toMatch(/missing setting WAREHOUSE_VPC_ID/);
  }, 120_000);
});
