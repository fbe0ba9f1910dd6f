import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { lambdaRunner, type LambdaRunner } from './lambda-runner';
import { freePort } from './ports';
import { REPO_ROOT } from './service-definitions';

/**
 * A service under serverless-offline, as a child process: `sls offline start` in the service's folder, with the
 * root's Serverless Framework 3 and plugins. The handlers run exactly as they are bundled for Lambda
 * (serverless-esbuild); only the environment given here points them at the local stack. By default they run inside
 * serverless's process (lambda-runner.ts says what that does not emulate).
 */

export type OfflineService = 'ingest' | 'stream-processor';

export interface OfflineOptions {
  service: OfflineService;
  /** Serverless stage; the local stack provisions `local`. */
  stage?: string;
  /**
   * Environment of serverless and of the handlers. serverless-offline hands every `AWS_*` variable to the
   * handlers, so pass the SDK's endpoint variables here (e.g. `AWS_ENDPOINT_URL_KINESIS`) with local credentials.
   * `AWS_*` variables of the calling process are not inherited: a local run never reaches a real account by accident.
   */
  env?: Record<string, string>;
  /** Serverless params (`--param=name=value`), e.g. `{ localApiKey }` for the ingest API. */
  params?: Record<string, string>;
  /** API port; a free one when absent. */
  httpPort?: number;
  /** Port of offline's Lambda invoke endpoint; a free one when absent. */
  lambdaPort?: number;
  /** How long startup may take (bundling included). */
  timeoutMs?: number;
  /** Receives every line serverless prints, e.g. to show it when debugging. */
  log?: (line: string) => void;
  /**
   * How handlers run (lambda-runner.ts): 'in-process' (default; LOCAL_LAMBDA_RUNNER changes it) or 'worker-threads',
   * a worker per concurrent invocation, terminated at its timeout.
   */
  runner?: LambdaRunner;
}

export interface RunningOffline {
  /** Base URL of the service's HTTP API, e.g. `http://127.0.0.1:43123` (no stage prefix: noPrependStageInUrl). */
  url: string;
  /** Base URL of offline's Lambda invoke API (`POST /2015-03-31/functions/{name}/invocations`). */
  lambdaUrl: string;
  pid: number;
  /** How its handlers run. */
  runner: LambdaRunner;
  /** The last lines serverless printed. */
  output(): string;
  /** Stops serverless and every process it started; safe to call more than once. */
  stop(): Promise<void>;
}

/** serverless offline did not become ready; everything it started has been stopped. */
export class OfflineStartError extends Error {
  override name = 'OfflineStartError';
  constructor(
    message: string,
    /** Leader of the process group that was stopped. */
    readonly pid: number | undefined,
    /** The last lines serverless printed. */
    readonly output: string,
  ) {
    super(`${message}\n--- serverless output ---\n${output}`);
  }
}

const SLS = resolve(REPO_ROOT, 'node_modules/.bin/sls');

/**
 * A fresh API key for the local ingest API: pass it as `params: { localApiKey }` (serverless-offline then accepts
 * only it, as `x-api-key`) and publish it in `.local/endpoints.json` as `api.key`. Never written anywhere else.
 */
export function createLocalApiKey(): string {
  // 40 hex characters: within API Gateway's 20-128 alphanumeric characters for a key value.
  return randomBytes(20).toString('hex');
}

const HOST = '127.0.0.1';

/**
 * The line that says a service is ready: serverless-offline prints "Server ready" once its HTTP API listens, after
 * its Lambda invoke server. Both services have HTTP events (the stream processor's read API).
 */
const READY_LINE = /Server ready: http/;

const OUTPUT_LINES_KEPT = 200;
const STOP_GRACE_MS = 5_000;

/** Loaded into serverless's process: stops it if this process dies without calling stop() (see the file). */
const WATCHDOG = resolve(__dirname, 'offline-watchdog.mjs');

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    // Negative pid: the process group the child leads (detached), i.e. serverless, its workers and esbuild.
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((done) => {
    const timer = setTimeout(() => done(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      done(true);
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (!hasExited(child)) {
    killGroup(child, 'SIGTERM');
    if (!(await waitForExit(child, STOP_GRACE_MS))) {
      killGroup(child, 'SIGKILL');
      await waitForExit(child, STOP_GRACE_MS);
    }
  }
  // serverless may be gone while a worker or esbuild of its group lingers.
  killGroup(child, 'SIGKILL');
  child.stdin?.destroy();
}

function inheritedEnvironment(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined && !entry[0].startsWith('AWS_')));
}

/**
 * Starts `sls offline start` for a service and resolves once it serves requests. If it cannot start (it exits, or
 * the timeout passes), everything it started is killed and the error carries its last output.
 */
export async function startOffline(options: OfflineOptions): Promise<RunningOffline> {
  const stage = options.stage ?? 'local';
  const httpPort = options.httpPort ?? (await freePort());
  const lambdaPort = options.lambdaPort ?? (await freePort());
  const runner = lambdaRunner(options.runner);
  const args = [
    'offline',
    'start',
    '--stage',
    stage,
    '--host',
    HOST,
    '--httpPort',
    String(httpPort),
    '--lambdaPort',
    String(lambdaPort),
    '--noPrependStageInUrl',
    ...(runner === 'in-process' ? ['--useInProcess'] : []),
    ...Object.entries(options.params ?? {}).map(([name, value]) => `--param=${name}=${value}`),
  ];
  const serviceDir = resolve(REPO_ROOT, 'services', options.service);
  // serverless-esbuild builds into the service folder; a folder per run (serverless.yml reads the variable as
  // custom.esbuild.outputWorkFolder) keeps two runs of one service, e.g. in parallel tests, from rewriting each
  // other's handlers.
  const workFolder = join('.esbuild', `offline-${randomBytes(4).toString('hex')}`);
  const inherited = inheritedEnvironment();
  const child = spawn(SLS, args, {
    cwd: serviceDir,
    env: {
      ...inherited,
      NODE_OPTIONS: [inherited.NODE_OPTIONS, `--import "${WATCHDOG}"`].filter(Boolean).join(' '),
      SLS_TELEMETRY_DISABLED: '1',
      SLS_NOTIFICATIONS_MODE: 'off',
      SLS_DEPRECATION_DISABLE: '*',
      SLS_ESBUILD_WORK_FOLDER: workFolder,
      ...options.env,
    },
    // Its own process group, so stop() reaches serverless and everything it spawned.
    detached: true,
    // stdin stays open, unwritten, for as long as this process lives: the watchdog's sign of life.
    stdio: ['pipe', 'pipe', 'pipe'],
  });

  const lines: string[] = [];
  const output = () => lines.join('\n');
  let onLine: (line: string) => void = () => undefined;
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (lines.length > OUTPUT_LINES_KEPT) lines.shift();
        options.log?.(line);
        onLine(line);
      }
    });
  }

  const stop = async () => {
    await stopChild(child);
    await rm(resolve(serviceDir, workFolder), { recursive: true, force: true });
  };
  try {
    await new Promise<void>((ready, fail) => {
      const timeoutMs = options.timeoutMs ?? 120_000;
      const timer = setTimeout(() => fail(new Error(`serverless offline (${options.service}) not ready after ${timeoutMs} ms`)), timeoutMs);
      const settle = (error?: Error) => {
        clearTimeout(timer);
        child.off('exit', onExit);
        child.off('error', settle);
        onLine = () => undefined;
        if (error) fail(error);
        else ready();
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
        settle(new Error(`serverless offline (${options.service}) exited during startup (${signal ?? `code ${code}`})`));
      child.once('exit', onExit);
      child.once('error', settle);
      onLine = (line) => {
        if (READY_LINE.test(line)) settle();
      };
    });
  } catch (error) {
    await stop();
    throw new OfflineStartError((error as Error).message, child.pid, output());
  }

  return { url: `http://${HOST}:${httpPort}`, lambdaUrl: `http://${HOST}:${lambdaPort}`, pid: child.pid as number, runner, output, stop };
}
