// One npm emulator in a process of its own (started by ./supervisor.ts): an uncaught exception in it (dynalite's
// LEVEL_ITERATOR_NOT_OPEN, say) ends this process only; the supervisor reports it and starts the emulator again.
import { startDynamoDb, startKinesis, startS3, type RunningServer } from '@invoice-pipeline/local-emulators/emulators';

// Ctrl-C in a terminal reaches every process of the foreground group, this one too: the parent stops it in order
// (SIGTERM, or its IPC channel closing), so an interrupt is neither a crash for the supervisor to restart nor a reason
// to go before the processes that still write to it. Set first, so that no moment of start-up is left uncovered.
process.on('SIGINT', () => undefined);

const [kind, port, dataDir] = process.argv.slice(2);
const starters: Record<string, () => Promise<RunningServer>> = {
  kinesis: () => startKinesis({ port: Number(port), dataDir: dataDir || undefined }),
  dynamodb: () => startDynamoDb({ port: Number(port), dataDir: dataDir || undefined }),
  s3: () => startS3({ port: Number(port), dataDir: dataDir as string }),
};

async function main(): Promise<void> {
  const start = kind ? starters[kind] : undefined;
  if (!start) throw new Error(`unknown emulator ${kind}`);
  const server = await start();
  process.send?.({ ready: true, endpoint: server.endpoint, port: server.port });
  // Stopping closes the server, which closes the emulator's database, so the next start finds it unlocked.
  process.on('SIGTERM', () => void server.stop().finally(() => process.exit(0)));
  process.on('disconnect', () => void server.stop().finally(() => process.exit(0)));
}

process.on('uncaughtException', (error) => {
  process.stderr.write(`${kind} emulator: uncaught ${error.stack ?? error.message}\n`);
  process.exit(70);
});
main().catch((error: Error) => {
  process.stderr.write(`${kind} emulator failed to start: ${error.message}\n`);
  process.exit(71);
});
