import { asList, prop, referencedId, resourcesOfType, roleStatements, strings, where, type Found, type StageTemplates } from './templates';

/**
 * The rules every stage's packaged templates must keep. Each returns what breaks it (empty: kept) and has a test that
 * mutates a template to prove it can fail (test/templates.test.ts).
 */
export interface Rule {
  name: string;
  /** Only for some stages (e.g. Retain only in prod). */
  stages?: string[];
  check(templates: StageTemplates): string[];
}

/** Actions that take no resource narrower than `*` in IAM, each with the reason; nothing else may use `*`. */
export const STAR_RESOURCE_ACTIONS: Record<string, string> = {
  'redshift-data:DescribeStatement': 'has no resource type; the Data API only shows a caller its own statements',
  'redshift-data:GetStatementResult': 'has no resource type; the Data API only shows a caller its own statements',
};

/** Each function's role: exactly these actions (a change here is a reviewed change of what a function may do). */
const FUNCTION_ACTIONS: Record<string, string[]> = {
  'ingest/HealthLambdaFunction': ['logs:CreateLogStream', 'logs:PutLogEvents'],
  'ingest/PostInvoicesLambdaFunction': ['kinesis:PutRecords', 'logs:CreateLogStream', 'logs:PutLogEvents'],
  'stream-processor/HealthLambdaFunction': ['logs:CreateLogStream', 'logs:PutLogEvents'],
  'stream-processor/ProcessInvoicesLambdaFunction': [
    'dynamodb:BatchWriteItem',
    'dynamodb:DeleteItem',
    'dynamodb:PutItem',
    'dynamodb:Query',
    'firehose:PutRecordBatch',
    'kinesis:DescribeStream',
    'kinesis:DescribeStreamSummary',
    'kinesis:GetRecords',
    'kinesis:GetShardIterator',
    'kinesis:ListShards',
    'kinesis:ListStreams',
    'logs:CreateLogStream',
    'logs:PutLogEvents',
    's3:PutObject',
    'sqs:SendMessage',
  ],
  'stream-processor/GetInvoiceLambdaFunction': ['dynamodb:GetItem', 'dynamodb:Query', 'logs:CreateLogStream', 'logs:PutLogEvents'],
  'stream-processor/ListCustomerInvoicesLambdaFunction': ['dynamodb:Query', 'logs:CreateLogStream', 'logs:PutLogEvents'],
  // The warehouse loader: lists staged files, writes a COPY manifest, runs COPY + MERGE and its look-ups through the Data API.
  'stream-processor/MergeWarehouseLambdaFunction': [
    'logs:CreateLogStream',
    'logs:PutLogEvents',
    'redshift-data:BatchExecuteStatement',
    'redshift-data:DescribeStatement',
    'redshift-data:ExecuteStatement',
    'redshift-data:GetStatementResult',
    's3:DeleteObject',
    's3:GetObject',
    's3:ListBucket',
    's3:PutObject',
    'secretsmanager:GetSecretValue',
  ],
  'batch-loader/HealthLambdaFunction': ['logs:CreateLogStream', 'logs:PutLogEvents'],
  'batch-loader/StartLoadLambdaFunction': ['glue:StartJobRun', 'logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:SendMessage'],
};

/** AWS managed policies a role may carry, each with the reason (everything else is inline and checked above). */
const MANAGED_POLICIES: Record<string, string> = {
  'arn:aws:iam::aws:policy/service-role/AWSGlueServiceRole':
    "Glue's documented service role: the job's and crawler's logs and metrics, the Data Catalog, and the network interfaces of the warehouse connection",
};

const roleOf = (templates: StageTemplates, found: Found) => {
  const id = referencedId(prop(found.resource, 'Properties', 'Role'));
  return id ? { id, resource: templates[found.service]?.Resources[id] } : undefined;
};

const isAlarmTopic = (value: unknown) => strings(value).some((text) => /monitoring\/AlarmTopicArn$|:alarms$/.test(text)) || referencedId(value) === 'AlarmTopic';

const STATEFUL_TYPES = ['AWS::DynamoDB::Table', 'AWS::S3::Bucket', 'AWS::SQS::Queue', 'AWS::RedshiftServerless::Namespace', 'AWS::SecretsManager::Secret'];
/** The framework's deployment bucket holds only build artefacts, which every deploy uploads again. */
const isDeploymentBucket = (found: Found) => found.id === 'ServerlessDeploymentBucket';

export const RULES: Rule[] = [
  {
    name: 'every resource the architecture needs exists',
    check: (t) => {
      const needed: Array<[string, string, number]> = [
        ['ingest', 'AWS::Kinesis::Stream', 1],
        ['ingest', 'AWS::ApiGateway::RestApi', 1],
        ['stream-processor', 'AWS::DynamoDB::Table', 1],
        ['stream-processor', 'AWS::Lambda::EventSourceMapping', 1],
        ['stream-processor', 'AWS::KinesisFirehose::DeliveryStream', 2],
        ['stream-processor', 'AWS::SQS::Queue', 1],
        ['warehouse', 'AWS::S3::Bucket', 1],
        ['batch-loader', 'AWS::S3::Bucket', 1],
        ['monitoring', 'AWS::SNS::Topic', 1],
      ];
      return needed
        .filter(([service, type, count]) => Object.values(t[service]?.Resources ?? {}).filter((r) => r.Type === type).length < count)
        .map(([service, type, count]) => `${service}: needs ${count} ${type}`);
    },
  },
  {
    name: 'the Kinesis event source reports partial failures, bisects, bounds retries and age, and keeps failures',
    check: (t) =>
      resourcesOfType(t, 'AWS::Lambda::EventSourceMapping').flatMap((found) => {
        const p = found.resource.Properties ?? {};
        const problems: string[] = [];
        if (!asList(p.FunctionResponseTypes as string[]).includes('ReportBatchItemFailures')) problems.push('FunctionResponseTypes lacks ReportBatchItemFailures');
        if (p.BisectBatchOnFunctionError !== true) problems.push('BisectBatchOnFunctionError is not true');
        if (typeof p.MaximumRetryAttempts !== 'number' || p.MaximumRetryAttempts < 0) problems.push('MaximumRetryAttempts is not bounded');
        if (typeof p.MaximumRecordAgeInSeconds !== 'number' || p.MaximumRecordAgeInSeconds < 0) problems.push('MaximumRecordAgeInSeconds is not bounded');
        if (!prop(p, 'DestinationConfig', 'OnFailure', 'Destination')) problems.push('no on-failure destination');
        return problems.map((problem) => `${where(found)}: ${problem}`);
      }),
  },
  {
    name: 'every delivery stream buffers, writes error output, logs errors and has a role of its own',
    check: (t) => {
      const streams = resourcesOfType(t, 'AWS::KinesisFirehose::DeliveryStream');
      const roles = streams.map((found) => referencedId(prop(found.resource, 'Properties', 'ExtendedS3DestinationConfiguration', 'RoleARN') ?? prop(found.resource, 'Properties', 'RedshiftDestinationConfiguration', 'RoleARN')));
      return streams.flatMap((found, index) => {
        const p = found.resource.Properties ?? {};
        const destination = (p.ExtendedS3DestinationConfiguration ?? p.RedshiftDestinationConfiguration) as Record<string, unknown> | undefined;
        const s3 = (p.ExtendedS3DestinationConfiguration ?? prop(p, 'RedshiftDestinationConfiguration', 'S3Configuration')) as Record<string, unknown> | undefined;
        const problems: string[] = [];
        if (!destination) problems.push('no S3 or Redshift destination');
        if (!prop(s3, 'BufferingHints', 'IntervalInSeconds') || !prop(s3, 'BufferingHints', 'SizeInMBs')) problems.push('no buffering hints');
        if (!prop(s3, 'ErrorOutputPrefix')) problems.push('no ErrorOutputPrefix');
        if (prop(destination, 'CloudWatchLoggingOptions', 'Enabled') !== true) problems.push('error logging is off');
        if (!roles[index] || roles.indexOf(roles[index]) !== index) problems.push(`shares its role ${roles[index]} with another delivery stream`);
        return problems.map((problem) => `${where(found)}: ${problem}`);
      });
    },
  },
  {
    name: 'the Glue job is bounded and pins the Spark settings its transform relies on; the crawler uses the invoice classifier',
    check: (t) => {
      const jobs = resourcesOfType(t, 'AWS::Glue::Job');
      const crawlers = resourcesOfType(t, 'AWS::Glue::Crawler');
      const problems = jobs.length === 0 || crawlers.length === 0 ? ['batch-loader: needs a Glue job and a crawler'] : [];
      for (const job of jobs) {
        const p = job.resource.Properties ?? {};
        if (typeof p.Timeout !== 'number') problems.push(`${where(job)}: no Timeout`);
        if (typeof p.MaxRetries !== 'number') problems.push(`${where(job)}: no MaxRetries`);
        const conf = String(prop(p, 'DefaultArguments', '--conf') ?? '');
        for (const setting of ['spark.sql.legacy.timeParserPolicy=CORRECTED', 'spark.sql.ansi.enabled=false', 'spark.sql.session.timeZone=UTC'])
          if (!conf.includes(setting)) problems.push(`${where(job)}: --conf lacks ${setting}`);
      }
      for (const crawler of crawlers) if (asList(prop(crawler.resource, 'Properties', 'Classifiers') as unknown[]).length === 0) problems.push(`${where(crawler)}: no classifier`);
      return problems;
    },
  },
  {
    name: 'POST /invoices needs an API key, and every key has a usage plan with throttle and quota',
    check: (t) => {
      const problems: string[] = [];
      const posts = resourcesOfType(t, 'AWS::ApiGateway::Method').filter((found) => found.resource.Properties?.HttpMethod === 'POST');
      if (posts.length === 0) problems.push('ingest: no POST method');
      for (const post of posts) if (post.resource.Properties?.ApiKeyRequired !== true) problems.push(`${where(post)}: ApiKeyRequired is not true`);
      const keys = resourcesOfType(t, 'AWS::ApiGateway::ApiKey');
      const plans = resourcesOfType(t, 'AWS::ApiGateway::UsagePlan');
      const planKeys = resourcesOfType(t, 'AWS::ApiGateway::UsagePlanKey');
      if (keys.length === 0) problems.push('ingest: no API key');
      for (const plan of plans) {
        if (!prop(plan.resource, 'Properties', 'Throttle', 'RateLimit') || !prop(plan.resource, 'Properties', 'Throttle', 'BurstLimit')) problems.push(`${where(plan)}: no throttle`);
        if (!prop(plan.resource, 'Properties', 'Quota', 'Limit')) problems.push(`${where(plan)}: no quota`);
      }
      for (const key of keys) if (!planKeys.some((pk) => referencedId(pk.resource.Properties?.KeyId) === key.id)) problems.push(`${where(key)}: in no usage plan`);
      return problems;
    },
  },
  {
    name: 'each function has a role of its own allowing exactly its actions, on resources narrower than * (listed exceptions)',
    check: (t) => {
      const problems: string[] = [];
      const functions = resourcesOfType(t, 'AWS::Lambda::Function');
      const seen = new Map<string, string>();
      for (const fn of functions) {
        const role = roleOf(t, fn);
        if (!role?.resource) {
          problems.push(`${where(fn)}: no role of its own in the template`);
          continue;
        }
        if (role.id === 'IamRoleLambdaExecution') problems.push(`${where(fn)}: uses the framework's default role`);
        const key = `${fn.service}/${role.id}`;
        if (seen.has(key)) problems.push(`${where(fn)}: shares role ${role.id} with ${seen.get(key)}`);
        seen.set(key, where(fn));
        const actions = [...new Set(roleStatements(role.resource).flatMap((s) => asList(s.Action)))].sort();
        const expected = FUNCTION_ACTIONS[where(fn)];
        if (!expected) problems.push(`${where(fn)}: not in FUNCTION_ACTIONS (add it with the actions it needs)`);
        else if (JSON.stringify(actions) !== JSON.stringify([...expected].sort())) problems.push(`${where(fn)}: allows ${actions.join(', ')}; expected ${[...expected].sort().join(', ')}`);
      }
      if (resourcesOfType(t, 'AWS::IAM::Role').some((r) => r.id === 'IamRoleLambdaExecution')) problems.push('a framework default role (IamRoleLambdaExecution) exists');
      for (const role of resourcesOfType(t, 'AWS::IAM::Role'))
        for (const arn of asList(prop(role.resource, 'Properties', 'ManagedPolicyArns') as unknown[])) if (typeof arn !== 'string' || !MANAGED_POLICIES[arn]) problems.push(`${where(role)}: managed policy ${JSON.stringify(arn)} not in MANAGED_POLICIES`);
      for (const role of resourcesOfType(t, 'AWS::IAM::Role')) {
        for (const statement of roleStatements(role.resource)) {
          if (statement.Effect !== 'Allow') continue;
          for (const action of asList(statement.Action)) {
            if (action.includes('*')) problems.push(`${where(role)}: wildcard action ${action}`);
            const resources = asList(statement.Resource as unknown[]);
            if (resources.some((r) => r === '*') && !STAR_RESOURCE_ACTIONS[action])
              problems.push(`${where(role)}: ${action} on *`);
          }
        }
      }
      return problems;
    },
  },
  {
    name: 'encryption at rest everywhere (KMS where the service offers it)',
    check: (t) => {
      const checks: Array<[string, (p: Record<string, unknown>) => boolean, string]> = [
        ['AWS::Kinesis::Stream', (p) => prop(p, 'StreamEncryption', 'EncryptionType') === 'KMS', 'stream not KMS-encrypted'],
        ['AWS::DynamoDB::Table', (p) => prop(p, 'SSESpecification', 'SSEEnabled') === true && prop(p, 'SSESpecification', 'SSEType') === 'KMS', 'table not KMS-encrypted'],
        ['AWS::SQS::Queue', (p) => Boolean(p.KmsMasterKeyId), 'queue not KMS-encrypted'],
        ['AWS::SNS::Topic', (p) => Boolean(p.KmsMasterKeyId), 'topic not KMS-encrypted'],
        ['AWS::S3::Bucket', (p) => asList(prop(p, 'BucketEncryption', 'ServerSideEncryptionConfiguration') as unknown[]).some((c) => prop(c, 'ServerSideEncryptionByDefault', 'SSEAlgorithm') === 'aws:kms'), 'bucket not SSE-KMS'],
        // The framework's own bucket of build artefacts (re-uploaded by every deploy) is SSE-S3, which the framework sets.
        ['AWS::S3::Bucket#deployment', (p) => Boolean(prop(p, 'BucketEncryption', 'ServerSideEncryptionConfiguration')), 'deployment bucket not encrypted'],
        ['AWS::KinesisFirehose::DeliveryStream', (p) => p.DeliveryStreamType === 'KinesisStreamAsSource' || Boolean(prop(p, 'DeliveryStreamEncryptionConfigurationInput', 'KeyType')), 'direct-put delivery stream not encrypted'],
        ['AWS::RedshiftServerless::Namespace', (p) => Boolean(p.KmsKeyId), 'namespace without a KMS key'],
        ['AWS::SecretsManager::Secret', (p) => Boolean(p.KmsKeyId), 'secret without a KMS key of its own'],
        ['AWS::KMS::Key', (p) => p.EnableKeyRotation === true, 'key rotation off'],
      ];
      return checks.flatMap(([kind, ok, problem]) => {
        const [type, deployment] = kind.split('#');
        return resourcesOfType(t, type as string)
          .filter((f) => isDeploymentBucket(f) === (deployment === 'deployment'))
          .filter((f) => !ok(f.resource.Properties ?? {}))
          .map((f) => `${where(f)}: ${problem}`);
      });
    },
  },
  {
    name: 'buckets block public access and refuse requests without TLS',
    check: (t) => {
      const policies = resourcesOfType(t, 'AWS::S3::BucketPolicy');
      return resourcesOfType(t, 'AWS::S3::Bucket').flatMap((bucket) => {
        const problems: string[] = [];
        const block = prop(bucket.resource, 'Properties', 'PublicAccessBlockConfiguration') as Record<string, unknown> | undefined;
        if (!['BlockPublicAcls', 'BlockPublicPolicy', 'IgnorePublicAcls', 'RestrictPublicBuckets'].every((k) => block?.[k] === true)) problems.push('public access not fully blocked');
        const tlsOnly = policies.some(
          (policy) =>
            policy.service === bucket.service &&
            referencedId(prop(policy.resource, 'Properties', 'Bucket')) === bucket.id &&
            asList(prop(policy.resource, 'Properties', 'PolicyDocument', 'Statement') as unknown[]).some(
              (s) => prop(s, 'Effect') === 'Deny' && prop(s, 'Principal') === '*' && String(prop(s, 'Condition', 'Bool', 'aws:SecureTransport')) === 'false' && asList(prop(s, 'Resource') as unknown[]).length === 2,
            ),
        );
        if (!tlsOnly) problems.push('no TLS-only bucket policy (Deny aws:SecureTransport=false on the bucket and its objects)');
        return problems.map((problem) => `${where(bucket)}: ${problem}`);
      });
    },
  },
  {
    name: 'point-in-time recovery on every table',
    check: (t) =>
      resourcesOfType(t, 'AWS::DynamoDB::Table')
        .filter((f) => prop(f.resource, 'Properties', 'PointInTimeRecoverySpecification', 'PointInTimeRecoveryEnabled') !== true)
        .map((f) => `${where(f)}: point-in-time recovery off`),
  },
  {
    name: 'alarms cover every loss path and notify the alarm topic',
    check: (t) => {
      const alarms = resourcesOfType(t, 'AWS::CloudWatch::Alarm');
      const problems = alarms.filter((a) => !asList(prop(a.resource, 'Properties', 'AlarmActions') as unknown[]).some(isAlarmTopic)).map((a) => `${where(a)}: no action on the alarm topic`);
      const watches = (namespace: string, metric: string, dimension?: (value: unknown) => boolean) =>
        alarms.some(
          (a) =>
            prop(a.resource, 'Properties', 'Namespace') === namespace &&
            prop(a.resource, 'Properties', 'MetricName') === metric &&
            (!dimension || asList(prop(a.resource, 'Properties', 'Dimensions') as unknown[]).some((d) => dimension(prop(d, 'Value')))),
        );
      const byFunction = (id: string) => (value: unknown) => referencedId(value) === id;
      const required: Array<[string, boolean]> = [
        ['iterator age of processInvoices', watches('AWS/Lambda', 'IteratorAge', byFunction('ProcessInvoicesLambdaFunction'))],
        ['errors of processInvoices', watches('AWS/Lambda', 'Errors', byFunction('ProcessInvoicesLambdaFunction'))],
        ['warehouse merge failures', watches('AWS/Lambda', 'Errors', byFunction('MergeWarehouseLambdaFunction'))],
        ['errors of postInvoices', watches('AWS/Lambda', 'Errors', byFunction('PostInvoicesLambdaFunction'))],
        ['failure-queue depth', watches('AWS/SQS', 'ApproximateNumberOfMessagesVisible')],
        ['API 5xx', watches('AWS/ApiGateway', '5XXError')],
        ['stream write throttling', watches('AWS/Kinesis', 'WriteProvisionedThroughputExceeded')],
      ];
      for (const stream of resourcesOfType(t, 'AWS::KinesisFirehose::DeliveryStream'))
        required.push([`delivery of ${stream.id}`, alarms.some((a) => prop(a.resource, 'Properties', 'Namespace') === 'AWS/Firehose' && asList(prop(a.resource, 'Properties', 'Dimensions') as unknown[]).some((d) => referencedId(prop(d, 'Value')) === stream.id))]);
      for (const job of resourcesOfType(t, 'AWS::Glue::Job'))
        required.push([
          `failures of Glue job ${job.id}`,
          resourcesOfType(t, 'AWS::Events::Rule').some((r) => strings(prop(r.resource, 'Properties', 'EventPattern')).includes('aws.glue') && asList(prop(r.resource, 'Properties', 'Targets') as unknown[]).some((target) => isAlarmTopic(prop(target, 'Arn')))) ||
            alarms.some((a) => prop(a.resource, 'Properties', 'Namespace') === 'Glue'),
        ]);
      return [...problems, ...required.filter(([, ok]) => !ok).map(([what]) => `no alarm on ${what}`)];
    },
  },
  {
    // Staged files reach the warehouse only when the loader runs: a disabled or missing schedule loses no data but
    // leaves the warehouse behind silently (the local stage disables it: the local stack runs the loader itself).
    name: 'the warehouse loader runs on an enabled schedule',
    check: (t) => {
      const rules = resourcesOfType(t, 'AWS::Events::Rule').filter((r) => JSON.stringify(prop(r.resource, 'Properties', 'Targets') ?? []).includes('MergeWarehouseLambdaFunction'));
      if (rules.length === 0) return ['stream-processor: no schedule invokes mergeWarehouse'];
      return rules.filter((r) => prop(r.resource, 'Properties', 'State') !== 'ENABLED' || !prop(r.resource, 'Properties', 'ScheduleExpression')).map((r) => `${where(r)}: not an enabled schedule`);
    },
  },
  {
    name: 'every log group has a retention',
    check: (t) => {
      const groups = resourcesOfType(t, 'AWS::Logs::LogGroup');
      const functions = resourcesOfType(t, 'AWS::Lambda::Function');
      const problems = groups.filter((g) => typeof prop(g.resource, 'Properties', 'RetentionInDays') !== 'number').map((g) => `${where(g)}: no retention`);
      // A function without a declared log group gets one from Lambda that never expires.
      for (const fn of functions) if (!groups.some((g) => g.service === fn.service && g.id === fn.id.replace(/LambdaFunction$/, 'LogGroup'))) problems.push(`${where(fn)}: log group not declared`);
      return problems;
    },
  },
  {
    name: 'no secret, password or placeholder account in any template',
    check: (t) =>
      Object.entries(t).flatMap(([service, template]) => {
        const problems: string[] = [];
        const visit = (value: unknown, path: string) => {
          if (typeof value === 'string') {
            if (/AKIA[0-9A-Z]{16}/.test(value)) problems.push(`${service}${path}: looks like an access key`);
            if (/123456789012|example\.(com|eu-west)/.test(value)) problems.push(`${service}${path}: example account or host ${value}`);
            if (/(password|secretstring)$/i.test(path.split('.').pop() ?? '') && !/^\{\{resolve:secretsmanager:/.test(value)) problems.push(`${service}${path}: literal value for a secret`);
          } else if (Array.isArray(value)) value.forEach((item, i) => visit(item, `${path}[${i}]`));
          else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) visit(v, `${path}.${k}`);
        };
        visit(template.Resources, '');
        visit(template.Outputs ?? {}, '.Outputs');
        return problems;
      }),
  },
  {
    name: 'the warehouse is private: no public endpoint, no ingress from anywhere',
    check: (t) => [
      ...resourcesOfType(t, 'AWS::RedshiftServerless::Workgroup')
        .filter((f) => prop(f.resource, 'Properties', 'PubliclyAccessible') !== false)
        .map((f) => `${where(f)}: publicly accessible`),
      ...resourcesOfType(t, 'AWS::EC2::SecurityGroup').flatMap((f) =>
        asList(prop(f.resource, 'Properties', 'SecurityGroupIngress') as unknown[])
          .filter((rule) => prop(rule, 'CidrIp') === '0.0.0.0/0' || prop(rule, 'CidrIpv6') === '::/0')
          .map(() => `${where(f)}: ingress open to the internet`),
      ),
      ...resourcesOfType(t, 'AWS::EC2::SecurityGroupIngress')
        .filter((f) => prop(f.resource, 'Properties', 'CidrIp') === '0.0.0.0/0' || prop(f.resource, 'Properties', 'CidrIpv6') === '::/0')
        .map((f) => `${where(f)}: ingress open to the internet`),
      ...resourcesOfType(t, 'AWS::Redshift::Cluster')
        .filter((f) => prop(f.resource, 'Properties', 'PubliclyAccessible') !== false)
        .map((f) => `${where(f)}: publicly accessible`),
    ],
  },
  {
    name: 'stateful resources are retained in prod and the table is deletion-protected',
    stages: ['prod'],
    check: (t) =>
      STATEFUL_TYPES.flatMap((type) => resourcesOfType(t, type))
        .filter((f) => !isDeploymentBucket(f))
        .flatMap((f) => {
        const problems: string[] = [];
        if (f.resource.DeletionPolicy !== 'Retain' || f.resource.UpdateReplacePolicy !== 'Retain') problems.push('not Retain on deletion and replacement');
        if (f.resource.Type === 'AWS::DynamoDB::Table' && prop(f.resource, 'Properties', 'DeletionProtectionEnabled') !== true) problems.push('deletion protection off');
        return problems.map((problem) => `${where(f)}: ${problem}`);
      }),
  },
];
