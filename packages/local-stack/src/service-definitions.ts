import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
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

/** Where printed configurations are kept between runs (`LOCAL_STACK_PRINT_CACHE=off`: never read nor written). */
const PRINT_CACHE_DIR = resolve(REPO_ROOT, 'node_modules/.cache/invoice-pipeline/sls-print');
/** Folders of a service that `sls print` never reads: dependencies, build output, handler code, tests, sample events. */
const NOT_PRINT_INPUTS = new Set(['node_modules', '.esbuild', '.serverless', '.build', 'src', 'test', 'events']);

async function printInputFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.filter((entry) => !NOT_PRINT_INPUTS.has(entry.name)).map((entry) => (entry.isDirectory() ? printInputFiles(join(dir, entry.name)) : Promise.resolve([join(dir, entry.name)]))),
  );
  return nested.flat().sort();
}

/**
 * The key of a service's printed configuration: everything the resolution reads. The Serverless version, the service
 * folder's files (serverless.yml, config/ resolvers, resources/ templates; not NOT_PRINT_INPUTS), the files its
 * resolvers require by relative path, stage and params, and the environment variables the configuration names
 * (`${env:NAME}`, `process.env.NAME`, a `required('NAME', …)` setting). A resolver that reads another input must add it here.
 */
export async function printCacheKey(path: string, stage: string, params: Record<string, string>): Promise<string> {
  const hash = createHash('sha256');
  const { version } = JSON.parse(await readFile(resolve(REPO_ROOT, 'node_modules/serverless/package.json'), 'utf8')) as { version: string };
  hash.update(JSON.stringify({ version, stage, params: Object.entries(params).sort(([a], [b]) => a.localeCompare(b)) }));
  const files = await printInputFiles(path);
  const required = new Set<string>();
  const names = new Set<string>();
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    hash.update(`\0${relative(path, file)}\0${text}`);
    for (const [, module] of text.matchAll(/require\(\s*'(\.{1,2}\/[^']+)'\s*\)/g)) required.add(resolve(dirname(file), module as string));
    for (const [, name] of text.matchAll(/(?:\benv:|process\.env\.|required\(\s*')([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(name as string);
  }
  for (const module of [...required].sort()) {
    const file = module.endsWith('.js') ? module : `${module}.js`;
    hash.update(`\0${relative(REPO_ROOT, file)}\0${await readFile(file, 'utf8')}`);
  }
  for (const name of [...names].sort()) hash.update(`\0${name}=${process.env[name] ?? '\u0001unset'}`);
  return hash.digest('hex');
}

/**
 * Runs `sls print` for one service and stage: the same resolution a deploy does, without AWS credentials. It takes
 * seconds (~6.5 s, five services per stack start), so a process asks once per service, stage and params (a stack
 * restarted in one process reuses it), and the result is kept on disk under its printCacheKey for the next run.
 */
export function printService(key: string, path: string, stage: string, params: Record<string, string>): Promise<ServiceDefinition> {
  const cacheKey = JSON.stringify([key, path, stage, params]);
  const cached = printed.get(cacheKey);
  if (cached) return cached;
  const definition = printThroughDiskCache(key, path, stage, params);
  printed.set(cacheKey, definition);
  definition.catch(() => printed.delete(cacheKey));
  return definition;
}

async function printThroughDiskCache(key: string, path: string, stage: string, params: Record<string, string>): Promise<ServiceDefinition> {
  if (process.env.LOCAL_STACK_PRINT_CACHE === 'off') return runPrint(key, path, stage, params);
  const file = join(PRINT_CACHE_DIR, `${key}-${await printCacheKey(path, stage, params)}.json`);
  const kept = await readFile(file, 'utf8').then(
    (text) => JSON.parse(text) as ServiceDefinition,
    () => undefined,
  );
  if (kept) return kept;
  const definition = await runPrint(key, path, stage, params);
  await mkdir(PRINT_CACHE_DIR, { recursive: true });
  // Written whole, then renamed: a parallel run reads the old file or the new one, never half of one.
  const partial = `${file}.${process.pid}.${Date.now()}.partial`;
  await writeFile(partial, JSON.stringify(definition));
  await rename(partial, file);
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
