import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';

const run = promisify(execFile);

export const REPO_ROOT = resolve(__dirname, '../../..');
const SLS = resolve(REPO_ROOT, 'node_modules/.bin/sls');

/** A CloudFormation resource as the service declares it (intrinsics unresolved). */
export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
}

/** A service's configuration as the Serverless Framework resolves it for a stage (`sls print`). */
export interface ServiceDefinition {
  /** The service's key in serverless-compose.yml, e.g. `ingest`. */
  key: string;
  path: string;
  service: string;
  resources: Record<string, CfnResource>;
  outputs: Record<string, { Value: unknown }>;
  config: Record<string, unknown>;
  /** The params compose passed (other services' outputs): serverless-offline needs the same ones. */
  params: Record<string, string>;
}

/** A service of serverless-compose.yml and the params it takes from other services' outputs. */
export interface ComposeService {
  key: string;
  path: string;
  /** param name -> `{ service, output }` it comes from, or a literal. */
  params: Record<string, { service: string; output: string } | string>;
}

const OUTPUT_REFERENCE = /^\$\{([\w-]+)\.(\w+)\}$/;

/** Reads serverless-compose.yml: the services and how outputs flow between them. */
export async function readCompose(root = REPO_ROOT): Promise<ComposeService[]> {
  const compose = parse(await readFile(resolve(root, 'serverless-compose.yml'), 'utf8')) as {
    services: Record<string, { path: string; params?: Record<string, string> }>;
  };
  return Object.entries(compose.services).map(([key, entry]) => ({
    key,
    path: resolve(root, entry.path),
    params: Object.fromEntries(
      Object.entries(entry.params ?? {}).map(([name, value]) => {
        const match = OUTPUT_REFERENCE.exec(String(value));
        return [name, match ? { service: match[1] as string, output: match[2] as string } : String(value)];
      }),
    ),
  }));
}

const printed = new Map<string, Promise<ServiceDefinition>>();

/**
 * Runs `sls print` for one service and stage: the same resolution a deploy does, without AWS credentials. It takes
 * seconds, so a process asks once per service, stage and params (a stack restarted in one process reuses it).
 */
export function printService(key: string, path: string, stage: string, params: Record<string, string>): Promise<ServiceDefinition> {
  const cacheKey = JSON.stringify([key, path, stage, params]);
  const cached = printed.get(cacheKey);
  if (cached) return cached;
  const definition = runPrint(key, path, stage, params);
  printed.set(cacheKey, definition);
  definition.catch(() => printed.delete(cacheKey));
  return definition;
}

async function runPrint(key: string, path: string, stage: string, params: Record<string, string>): Promise<ServiceDefinition> {
  const args = ['print', '--stage', stage, '--format', 'json', ...Object.entries(params).map(([name, value]) => `--param=${name}=${value}`)];
  let stdout: string;
  try {
    ({ stdout } = await run(SLS, args, {
      cwd: path,
      maxBuffer: 32 * 1024 * 1024,
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', SLS_DEPRECATION_DISABLE: '*' },
    }));
  } catch (error) {
    const { stdout: out = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`sls print failed for service ${key} (${path}):\n${stderr || out}`);
  }
  const config = JSON.parse(stdout) as Record<string, unknown> & {
    service: string;
    resources?: { Resources?: Record<string, CfnResource>; Outputs?: Record<string, { Value: unknown }> };
  };
  return { key, path, service: config.service, resources: config.resources?.Resources ?? {}, outputs: config.resources?.Outputs ?? {}, config, params };
}
