import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { RunningServer } from '@invoice-pipeline/local-emulators';

export type EmulatorKind = 'kinesis' | 'dynamodb' | 's3';

export interface SupervisedEmulator extends RunningServer {
  /** Times the emulator died and was started again. */
  restarts(): number;
  /** The process now running the emulator (tests kill it). */
  pid(): number | undefined;
}

const CHILD = join(__dirname, 'emulator-process.ts');
/**
 * How the child runs: its TypeScript through tsx's require hook (resolved from here, whatever the current folder),
 * which compiles on the process's own thread. `--import tsx` would also start Node's module-hooks thread, a second
 * V8 isolate in every emulator for nothing (an idle dynalite: 122 MB resident with it, 82 MB without). V8's own
 * young generation (semi-spaces of up to 16 MB): with 2 MB, which kept ~25 MB per idle emulator from becoming
 * resident, a third of dynalite's CPU in a whole-dataset replay went to scavenges.
 */
const EMULATOR_EXEC_ARGV = ['--require', require.resolve('tsx/cjs')];

/**
 * Runs one npm emulator in a child process and keeps it running: when it dies (an uncaught exception inside the
 * emulator, or killed), the death is reported with the last lines it wrote and it is started again on the same port
 * with the same data folder, so clients reconnect to the same endpoint and find their data. One emulator's fault no
 * longer ends the others, the Firehose, the warehouse and the API, which stay in the parent process.
 */
export async function startSupervisedEmulator(kind: EmulatorKind, options: { port: number; dataDir?: string; log?: (message: string) => void }): Promise<SupervisedEmulator> {
  const log = options.log ?? ((message: string) => console.error(message));
  let port = options.port;
  let child: ChildProcess | undefined;
  let stopping = false;
  let restarts = 0;
  let lastError = '';

  const spawn = () =>
    new Promise<{ endpoint: string; port: number }>((resolve, reject) => {
      const started = fork(CHILD, [kind, String(port), options.dataDir ?? ''], { execArgv: EMULATOR_EXEC_ARGV, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      child = started;
      started.stderr?.on('data', (chunk: Buffer) => (lastError = `${lastError}${chunk.toString()}`.slice(-2_000)));
      started.once('message', (message: { ready?: boolean; endpoint: string; port: number }) => (message.ready ? resolve(message) : reject(new Error(String(message)))));
      started.once('exit', (code, signal) => {
        reject(new Error(`${kind} emulator exited before it was ready (${signal ?? code}): ${lastError.trim()}`));
        if (stopping || child !== started) return;
        restarts += 1;
        log(`${kind} emulator died (${signal ?? `exit ${code}`})${lastError ? `: ${lastError.trim().split('\n')[0]}` : ''}; restarting it on port ${port} (restart ${restarts})`);
        lastError = '';
        void spawn().then(
          () => log(`${kind} emulator restarted on port ${port}`),
          (error: Error) => log(`${kind} emulator could not be restarted: ${error.message}`),
        );
      });
    });

  const ready = await spawn();
  port = ready.port;
  return {
    endpoint: ready.endpoint,
    port,
    restarts: () => restarts,
    pid: () => child?.pid,
    async stop() {
      stopping = true;
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        running.once('exit', () => resolve());
        running.kill('SIGTERM');
        setTimeout(() => running.kill('SIGKILL'), 10_000).unref();
      });
    },
  };
}
