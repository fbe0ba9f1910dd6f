import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { readCompose, REPO_ROOT, type ComposeService } from '@invoice-pipeline/local-stack';

const run = promisify(execFile);

/** Where `pnpm package --stage <stage>` leaves each service's CloudFormation template for the template tests. */
export function templatesDir(stage: string, root = REPO_ROOT): string {
  return resolve(root, '.serverless', 'templates', stage);
}

/**
 * Outputs a stage's services take from each other, as placeholders. serverless-compose reads outputs only from
 * `.serverless/state.<stage>.json`, written by a deploy; packaging offline needs them before anything is deployed.
 * A placeholder names the output it stands for (`arn:aws:offline-package:<region>:000000000000:ingest/StreamArn`),
 * so a template test can tell which output a policy or setting uses.
 */
function placeholderOutputs(services: ComposeService[], region: string): Record<string, { outputs: Record<string, string> }> {
  const components: Record<string, { outputs: Record<string, string> }> = {};
  for (const service of services) {
    for (const param of Object.values(service.params)) {
      if (typeof param === 'string') continue;
      const component = (components[param.service] ??= { outputs: {} });
      component.outputs[param.output] = placeholderOutput(param.service, param.output, region);
    }
  }
  return components;
}

const PLACEHOLDER_ACCOUNT = '000000000000';

/**
 * Settings only a deployer knows, read from the environment by the services (a deploy without them fails naming
 * them). Packaging offline stands in for the ones not set, so the templates can be built and tested.
 */
const DEPLOY_SETTINGS_PLACEHOLDERS: Record<string, string> = {
  WAREHOUSE_VPC_ID: 'vpc-0offlinepackage',
  WAREHOUSE_SUBNET_IDS: 'subnet-0offlinepackagea,subnet-0offlinepackageb,subnet-0offlinepackagec',
  GLUE_SUBNET_ID: 'subnet-0offlinepackagea',
  GLUE_SECURITY_GROUP_ID: 'sg-0offlinepackage',
  GLUE_AVAILABILITY_ZONE: 'eu-west-2a',
};

function placeholderOutput(service: string, output: string, region: string): string {
  return output.endsWith('Arn') ? `arn:aws:offline-package:${region}:${PLACEHOLDER_ACCOUNT}:${service}/${output}` : `offline-package-${service}-${output}`;
}

export interface PackageOptions {
  stage: string;
  /** Region of the placeholders (the services default to eu-west-2; compose takes no --region). */
  region?: string;
  /** Account id the bucket names end with (a deploy resolves it from the credentials; offline there are none). */
  account?: string;
  root?: string;
  log?: (line: string) => void;
}

/**
 * Packages every service of serverless-compose.yml for a stage with no AWS credentials: seeds the compose state with
 * placeholder outputs (unless a deploy left real ones), runs `serverless-compose package`, removes the seed (so a later
 * deploy never reads a placeholder) and copies each template to `.serverless/templates/<stage>/<service>.json`.
 */
export async function packageStage(options: PackageOptions): Promise<Record<string, string>> {
  const root = options.root ?? REPO_ROOT;
  const region = options.region ?? 'eu-west-2';
  const log = options.log ?? (() => undefined);
  const services = await readCompose(root);
  const statePath = resolve(root, '.serverless', `state.${options.stage}.json`);
  const deployedState = await readFile(statePath, 'utf8').catch(() => undefined);
  if (deployedState === undefined) {
    await mkdir(resolve(root, '.serverless'), { recursive: true });
    await writeFile(statePath, JSON.stringify({ components: placeholderOutputs(services, region) }, null, 2));
  } else {
    log(`using the outputs a deploy recorded in ${relative(root, statePath)}`);
  }
  const placeholders = Object.fromEntries(Object.entries(DEPLOY_SETTINGS_PLACEHOLDERS).filter(([name]) => !process.env[name]));
  if (Object.keys(placeholders).length > 0) log(`placeholders for deploy settings not set: ${Object.keys(placeholders).join(', ')}`);
  const env = {
    ...placeholders,
    ...process.env,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    // No credential look-ups against an instance metadata endpoint that is not there.
    AWS_EC2_METADATA_DISABLED: 'true',
    // Bucket names end with the account id; a deploy looks it up with the credentials, offline it is given here.
    AWS_ACCOUNT_ID: options.account ?? PLACEHOLDER_ACCOUNT,
  };
  const args = ['exec', 'serverless-compose', 'package', '--stage', options.stage];
  try {
    const { stdout } = await run('pnpm', args, { cwd: root, env, maxBuffer: 64 * 1024 * 1024 });
    log(stdout.trim());
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`packaging stage ${options.stage} failed:\n${failure.stdout ?? ''}${failure.stderr ?? ''}`.trim());
  } finally {
    if (deployedState === undefined) await rm(statePath, { force: true });
  }
  const target = templatesDir(options.stage, root);
  await rm(target, { recursive: true, force: true });
  await mkdir(target, { recursive: true });
  const templates: Record<string, string> = {};
  for (const service of services) {
    const path = join(target, `${service.key}.json`);
    await copyFile(join(service.path, '.serverless', 'cloudformation-template-update-stack.json'), path);
    templates[service.key] = path;
  }
  return templates;
}
