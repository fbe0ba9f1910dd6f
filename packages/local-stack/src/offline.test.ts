import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLocalApiKey, OfflineStartError, startOffline } from './offline';

/** True while a process of the group led by `pid` runs (zombies, dead but not yet reaped by init, do not count). */
function groupAlive(pid: number): boolean {
  const processes = execFileSync('ps', ['-eo', 'pgid=,stat='], { encoding: 'utf8' }).trim().split('\n');
  return processes.some((line) => {
    const [pgid, stat = ''] = line.trim().split(/\s+/);
    return Number(pgid) === pid && !stat.startsWith('Z');
  });
}

/** Command lines of the processes of the group led by `pid`. */
function groupCommands(pid: number): string[] {
  const processes = execFileSync('ps', ['-eo', 'pgid=,args='], { encoding: 'utf8' }).trim().split('\n');
  return processes.flatMap((line) => {
    const [, pgid, args = ''] = /^\s*(\d+)\s+(.*)$/.exec(line) ?? [];
    return Number(pgid) === pid ? [args] : [];
  });
}

describe('startOffline', () => {
  it('serves the service once ready, and stop() ends its whole process tree', async () => {
    const apiKey = createLocalApiKey();
    expect(apiKey).toMatch(/^[0-9a-f]{40}$/);
    const offline = await startOffline({ service: 'ingest', params: { localApiKey: apiKey } });
    try {
      expect(offline.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const health = await fetch(`${offline.url}/health`);
      expect(health.status).toBe(200);
      // The API key passed as a param is the one enforced.
      const denied = await fetch(`${offline.url}/invoices`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(denied.status).toBe(403);
      const allowed = await fetch(`${offline.url}/invoices`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': apiKey }, body: '{}' });
      expect(allowed.status).toBe(400);
      expect(groupAlive(offline.pid)).toBe(true);
      // One process: serverless itself. Its handlers bundled, it keeps no esbuild service process (50-150 MB resident),
      // and the watch on the caller's life runs inside it, not in a node process of its own (43 MB).
      expect(groupCommands(offline.pid)).toEqual([expect.stringMatching(/serverless\.js offline start/)]);
    } finally {
      await offline.stop();
    }
    expect(groupAlive(offline.pid)).toBe(false);
    await offline.stop();
  }, 120_000);

  it('kills everything it started when startup times out, and says what serverless printed', async () => {
    const error = await startOffline({ service: 'ingest', timeoutMs: 1_500 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OfflineStartError);
    expect((error as OfflineStartError).message).toMatch(/not ready after 1500 ms[\s\S]*--- serverless output ---/);
    expect(groupAlive((error as OfflineStartError).pid as number)).toBe(false);
  }, 60_000);

  it('fails fast with serverless output when the service cannot start', async () => {
    // ingest's API keys are made from the list of stores; a CLI param that is not a list stops serverless.
    const error = await startOffline({ service: 'ingest', params: { stores: 'not-a-list' } }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OfflineStartError);
    expect((error as OfflineStartError).message).toMatch(/exited during startup/);
    expect((error as OfflineStartError).output).toMatch(/param "stores" must be a non-empty list/);
    expect(groupAlive((error as OfflineStartError).pid as number)).toBe(false);
  }, 60_000);

  it('stops serverless when the process that started it dies without stopping it (SIGKILL)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'offline-orphan-'));
    let pid: number | undefined;
    let parent: ChildProcess | undefined;
    try {
      const script = join(dir, 'start.ts');
      await writeFile(
        script,
        `import { startOffline } from ${JSON.stringify(resolve(__dirname, 'offline'))};\n` +
          `startOffline({ service: 'ingest' }).then((o) => console.log('READY ' + o.pid));\nsetInterval(() => undefined, 1000);\n`,
      );
      // One process (node with tsx's loader, resolved from the repository root), so that one SIGKILL takes it down.
      parent = spawn(process.execPath, ['--import', 'tsx', script], { cwd: resolve(__dirname, '../../..'), stdio: ['ignore', 'pipe', 'inherit'] });
      pid = await new Promise<number>((ready, fail) => {
        parent?.stdout?.on('data', (chunk: Buffer) => {
          const match = /READY (\d+)/.exec(chunk.toString());
          if (match) ready(Number(match[1]));
        });
        parent?.once('exit', () => fail(new Error('the starting process exited early')));
      });
      expect(groupAlive(pid)).toBe(true);
      // As an OOM killer or a CI timeout would: no exit handler runs.
      parent.kill('SIGKILL');
      for (let waited = 0; groupAlive(pid) && waited < 10_000; waited += 250) await new Promise((done) => setTimeout(done, 250));
      expect(groupAlive(pid)).toBe(false);
    } finally {
      parent?.kill('SIGKILL');
      if (pid !== undefined && groupAlive(pid)) process.kill(-pid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
