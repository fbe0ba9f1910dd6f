// Loaded into serverless's own process by startOffline (NODE_OPTIONS --import): stops serverless, and everything of
// its process group, when the process that started it goes away, however that happens (even SIGKILL, which runs no exit
// handler): that process holds this one's stdin open, so its end means it died. (This used to be a node process of its
// own between the two, ~43 MB resident per service for reading stdin.) serverless leads its own process group.
import { rmSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const GRACE_MS = 5000;
const self = /\s*--import\s+"?[^"\s]*offline-watchdog\.mjs"?/;

// Not for the handlers' worker threads, nor for any node process serverless starts in turn.
if (process.env.NODE_OPTIONS) process.env.NODE_OPTIONS = process.env.NODE_OPTIONS.replace(self, '');
if (isMainThread) {
  let orphaned = false;
  const stopGroup = () => {
    if (orphaned) return;
    orphaned = true;
    try {
      process.kill(0, 'SIGTERM');
    } catch {
      // the group is gone already
    }
    setTimeout(() => process.kill(0, 'SIGKILL'), GRACE_MS).unref();
  };
  process.stdin.on('end', stopGroup);
  process.stdin.on('error', stopGroup);
  process.stdin.resume();
  // Reading stdin must not keep serverless alive once it is done.
  process.stdin.unref?.();
  process.on('exit', () => {
    // Nobody is left to remove this run's build folder (startOffline does it on stop()).
    const workFolder = process.env.SLS_ESBUILD_WORK_FOLDER;
    if (orphaned && workFolder?.startsWith('.esbuild/offline-')) rmSync(workFolder, { recursive: true, force: true });
  });
}
