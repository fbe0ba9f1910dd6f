/**
 * How serverless-offline runs a service's handlers locally (see the package README, "How handlers run").
 *
 * - `in-process` (the default): every handler runs in serverless's own process, loaded once, concurrent invocations
 *   interleaved on one event loop (serverless-offline's `--useInProcess`). One copy of each bundle and of the AWS SDK,
 *   no cold start per concurrent request.
 * - `worker-threads` (serverless-offline's own default): a worker thread per concurrent invocation, each loading the
 *   handler (a cold start inside the function's timeout, ~50 MiB), terminated when it times out.
 *
 * `LOCAL_LAMBDA_RUNNER=worker-threads` chooses the second for a whole run (`pnpm start`, `pnpm stack`, tests).
 */
export type LambdaRunner = 'in-process' | 'worker-threads';

export const LAMBDA_RUNNERS: readonly LambdaRunner[] = ['in-process', 'worker-threads'];

/** The runner asked for: the option, else LOCAL_LAMBDA_RUNNER, else in-process. */
export function lambdaRunner(option?: LambdaRunner, env: NodeJS.ProcessEnv = process.env): LambdaRunner {
  if (option) return option;
  const named = env.LOCAL_LAMBDA_RUNNER;
  if (named === undefined || named === '') return 'in-process';
  if (!(LAMBDA_RUNNERS as readonly string[]).includes(named)) throw new Error(`LOCAL_LAMBDA_RUNNER must be one of ${LAMBDA_RUNNERS.join(', ')}, not ${JSON.stringify(named)}`);
  return named as LambdaRunner;
}

/** A service's configuration as `sls print` resolves it: what the runner check reads. */
export interface ServiceEnvironments {
  provider?: { environment?: Record<string, unknown> };
  functions?: Record<string, { environment?: Record<string, unknown> } | undefined>;
}

/**
 * The variables that two functions of one service set to different values. In-process, serverless-offline assigns a
 * function's environment to the one `process.env` at each invocation (and never removes a variable), so a function
 * reading such a variable, at cold start or later, could see another function's value: in-process is then wrong for
 * that service. The variables Lambda itself sets per function (AWS_LAMBDA_FUNCTION_NAME, _HANDLER, ...) are not in
 * the configuration and are not checked; the handlers take their function's name from the invocation's context.
 */
export function environmentConflicts(config: ServiceEnvironments | undefined): string[] {
  const provider = config?.provider?.environment ?? {};
  const seen = new Map<string, string>();
  const conflicts = new Set<string>();
  for (const fn of Object.values(config?.functions ?? {})) {
    for (const [name, value] of Object.entries({ ...provider, ...fn?.environment })) {
      const text = JSON.stringify(value);
      const before = seen.get(name);
      if (before === undefined) seen.set(name, text);
      else if (before !== text) conflicts.add(name);
    }
  }
  return [...conflicts].sort();
}
