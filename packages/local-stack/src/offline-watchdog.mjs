// Runs `serverless` for startOffline and stops it when the process that started it goes away, however that happens
// (even SIGKILL, which runs no exit handler): that process holds this one's stdin open, so its end means it died.
// This process leads its own process group, which serverless and everything it spawns join.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';

const [command, ...args] = JSON.parse(process.argv[2] ?? '[]');
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
const GRACE_MS = 5000;

let orphaned = false;

function stopGroup() {
  orphaned = true;
  try {
    process.kill(0, 'SIGTERM');
  } catch {
    // the group is gone already
  }
  setTimeout(() => process.kill(0, 'SIGKILL'), GRACE_MS).unref();
}

// A group SIGTERM (stop()) is for serverless; this process ends when serverless does.
process.on('SIGTERM', () => undefined);
process.on('SIGINT', () => undefined);
process.stdin.on('end', stopGroup);
process.stdin.on('error', stopGroup);
process.stdin.resume();
child.on('exit', (code, signal) => {
  // Nobody is left to remove this run's build folder (startOffline does it on stop()).
  const workFolder = process.env.SLS_ESBUILD_WORK_FOLDER;
  if (orphaned && workFolder?.startsWith('.esbuild/offline-')) rmSync(workFolder, { recursive: true, force: true });
  process.exit(code ?? (signal ? 1 : 0));
});
child.on('error', (error) => {
  console.error(`cannot start ${command}: ${error.message}`);
  process.exit(1);
});
