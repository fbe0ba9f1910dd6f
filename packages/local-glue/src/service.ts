import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { S3Client } from '@aws-sdk/client-s3';
import { closer, listen } from '@invoice-pipeline/local-emulators';
import { runDumpJob } from './job';
import type { BatchWarehouse, DumpLoadReport } from './load';

/** The one script the local Glue can run: glue/load_dump.py, as its TypeScript counterpart runDumpJob. */
export const LOAD_DUMP_SCRIPT = 'glue/load_dump.py';

export type JobRunState = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

/** A job run as the Glue API describes it, plus what the local run knows beyond it (report, progress). */
export interface LocalJobRun {
  Id: string;
  JobName: string;
  JobRunState: JobRunState;
  Arguments: Record<string, string>;
  StartedOn: Date;
  CompletedOn?: Date;
  ExecutionTime?: number;
  ErrorMessage?: string;
  /** The job's own output (glue/load_dump.py prints it to its log). */
  report?: DumpLoadReport;
  progress?: { staged: number; total: number };
}

interface LocalJob {
  Name: string;
  DefaultArguments: Record<string, string>;
  ScriptLocation: string;
}

export interface LocalGlueOptions {
  /** 0 for a free port. */
  port: number;
  s3: S3Client;
  warehouse: BatchWarehouse;
  /** Scratch folder of job runs. */
  workDir: string;
  log?: (message: string) => void;
}

export interface LocalGlue {
  endpoint: string;
  /** Creates a provisioned AWS::Glue::* resource; false for a type that is not emulated. */
  createResource(type: string, name: string, properties: Record<string, unknown>): boolean;
  startJobRun(jobName: string, args?: Record<string, string>): string;
  jobRuns(jobName?: string): LocalJobRun[];
  /** Resolves once no run is queued or running. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

class GlueError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** The Glue API's view of a run (epoch seconds, no local extras). */
function describeRun(run: LocalJobRun) {
  const { report: _report, progress: _progress, StartedOn, CompletedOn, ...rest } = run;
  return { ...rest, StartedOn: StartedOn.getTime() / 1000, ...(CompletedOn ? { CompletedOn: CompletedOn.getTime() / 1000 } : {}) };
}

/**
 * The offline Glue: holds the database, classifier, crawler and job the batch loader declares, and runs the job's
 * runs one at a time (StartJobRun) with the TypeScript counterpart of glue/load_dump.py. It answers the Glue API
 * (JSON 1.1: StartJobRun, GetJobRun, GetJobRuns, GetJob) over HTTP, so the SDK, the AWS CLI and `pnpm load-dump` use
 * it as they would use Glue.
 */
export async function startLocalGlue(options: LocalGlueOptions): Promise<LocalGlue> {
  const log = options.log ?? (() => undefined);
  const jobs = new Map<string, LocalJob>();
  const catalog = new Map<string, { type: string; properties: Record<string, unknown> }>();
  const runs: LocalJobRun[] = [];
  let queue: Promise<void> = Promise.resolve();
  let sequence = 0;

  const jobNamed = (name: unknown) => {
    const job = jobs.get(String(name));
    if (!job) throw new GlueError('EntityNotFoundException', `Job ${String(name)} not found`);
    return job;
  };

  async function execute(run: LocalJobRun, job: LocalJob): Promise<void> {
    const args = { ...job.DefaultArguments, ...run.Arguments };
    try {
      if (!job.ScriptLocation.endsWith(`/${LOAD_DUMP_SCRIPT}`)) throw new Error(`the local Glue runs only ${LOAD_DUMP_SCRIPT}, not ${job.ScriptLocation}`);
      const missing = ['--dumps_bucket', '--dump_key', '--store_id'].filter((name) => !args[name]);
      if (missing.length) throw new Error(`missing job argument(s) ${missing.join(', ')}`);
      run.report = await runDumpJob({
        s3: options.s3,
        bucket: args['--dumps_bucket'] as string,
        key: args['--dump_key'] as string,
        storeId: args['--store_id'] as string,
        warehouse: options.warehouse,
        workDir: options.workDir,
        onProgress: (staged, total) => (run.progress = { staged, total }),
      });
      run.JobRunState = 'SUCCEEDED';
      const r = run.report;
      log(`glue ${run.Id}: ${r.file}: ${r.rowsRead} rows, ${r.linesLoaded} lines of ${r.invoices} invoices loaded, ${r.rowsRejected} rejected, revenue ${r.revenue}`);
    } catch (error) {
      run.JobRunState = 'FAILED';
      run.ErrorMessage = error instanceof Error ? error.message : String(error);
      log(`glue ${run.Id}: FAILED: ${run.ErrorMessage}`);
    } finally {
      run.CompletedOn = new Date();
      run.ExecutionTime = Math.round((run.CompletedOn.getTime() - run.StartedOn.getTime()) / 1000);
    }
  }

  function startJobRun(jobName: string, args: Record<string, string> = {}): string {
    const job = jobNamed(jobName);
    sequence += 1;
    const run: LocalJobRun = { Id: `jr_local_${Date.now().toString(16)}_${sequence}`, JobName: job.Name, JobRunState: 'RUNNING', Arguments: args, StartedOn: new Date() };
    runs.push(run);
    // Runs go one at a time: on a laptop, concurrent runs would only contend for the same cores and warehouse lock.
    queue = queue.then(() => execute(run, job));
    return run.Id;
  }

  const operations: Record<string, (input: Record<string, unknown>) => unknown> = {
    StartJobRun: (input) => ({ JobRunId: startJobRun(String(input.JobName), (input.Arguments ?? {}) as Record<string, string>) }),
    GetJobRun: (input) => {
      jobNamed(input.JobName);
      const run = runs.find((r) => r.Id === input.RunId && r.JobName === input.JobName);
      if (!run) throw new GlueError('EntityNotFoundException', `Job run ${String(input.RunId)} not found`);
      return { JobRun: describeRun(run) };
    },
    GetJobRuns: (input) => {
      jobNamed(input.JobName);
      const matching = runs.filter((r) => r.JobName === input.JobName).reverse();
      const start = Number(input.NextToken ?? 0);
      const end = start + Number(input.MaxResults ?? 100);
      return { JobRuns: matching.slice(start, end).map(describeRun), ...(end < matching.length ? { NextToken: String(end) } : {}) };
    },
    GetJob: (input) => {
      const job = jobNamed(input.JobName);
      return { Job: { Name: job.Name, Command: { Name: 'glueetl', ScriptLocation: job.ScriptLocation }, DefaultArguments: job.DefaultArguments } };
    },
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify(body));
    };
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const target = String(request.headers['x-amz-target'] ?? '');
      const operation = operations[target.replace(/^AWSGlue\./, '')];
      if (!operation) throw new GlueError('UnknownOperationException', `the local Glue does not implement ${target || 'this request'}`);
      const text = Buffer.concat(chunks).toString('utf8');
      reply(200, operation(text ? (JSON.parse(text) as Record<string, unknown>) : {}));
    } catch (error) {
      const known = error instanceof GlueError;
      reply(known ? 400 : 500, { __type: known ? error.type : 'InternalServiceException', message: error instanceof Error ? error.message : String(error) });
    }
  }

  const server = createServer((request, response) => void handle(request, response));
  const port = await listen(server, options.port);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    createResource(type, name, properties) {
      switch (type) {
        case 'AWS::Glue::Job': {
          const command = (properties.Command ?? {}) as { ScriptLocation?: string };
          jobs.set(name, { Name: name, ScriptLocation: String(command.ScriptLocation ?? ''), DefaultArguments: (properties.DefaultArguments ?? {}) as Record<string, string> });
          return true;
        }
        case 'AWS::Glue::Database':
        case 'AWS::Glue::Classifier':
        case 'AWS::Glue::Crawler':
          catalog.set(name, { type, properties });
          return true;
        default:
          return false;
      }
    },
    startJobRun,
    jobRuns: (jobName) => runs.filter((run) => !jobName || run.JobName === jobName),
    idle: async () => {
      // A run may queue another while the chain settles.
      for (let settled = queue; ; settled = queue) {
        await settled;
        if (settled === queue) return;
      }
    },
    stop: async () => {
      await closer(server)();
      await queue;
    },
  };
}
