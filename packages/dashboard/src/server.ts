import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, resolve } from 'node:path';
import type { AnalyticsReader } from './analytics';
import { takeSnapshot, type SinkCount, type Snapshot } from './snapshot';

const PUBLIC_DIR = resolve(__dirname, '../public');
/** The charting library, served from the project's own node_modules: the page needs no internet. */
const ECHARTS = require.resolve('echarts/dist/echarts.min');

const STATIC: Record<string, string> = {
  '/': resolve(PUBLIC_DIR, 'index.html'),
  '/dashboard.js': resolve(PUBLIC_DIR, 'dashboard.js'),
  '/dashboard.css': resolve(PUBLIC_DIR, 'dashboard.css'),
  '/vendor/echarts.min.js': ECHARTS,
};
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

export interface DashboardOptions {
  reader: AnalyticsReader;
  /** 0 for a free port. */
  port: number;
  /** How often the snapshot is refreshed while the page is open (the page polls at the same pace). */
  refreshMs?: number;
  /** Counts of the other sinks, when the local run knows them. */
  sinks?: () => Promise<SinkCount[]>;
  log?: (message: string) => void;
}

export interface RunningDashboard {
  url: string;
  /** Refreshes now and returns the new snapshot. */
  refresh(): Promise<Snapshot>;
  stop(): Promise<void>;
}

/**
 * The analysts' local web page on 127.0.0.1: a static page, ECharts, and /api/snapshot (the warehouse queries'
 * results, at most refreshMs old). One refresh runs at a time; a failed refresh is reported to the page, not hidden.
 */
export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const refreshMs = options.refreshMs ?? 5_000;
  let latest: { snapshot?: Snapshot; error?: string; at: number } = { at: 0 };
  let running: Promise<Snapshot> | undefined;

  const refresh = () =>
    (running ??= takeSnapshot(options.reader, options.sinks)
      .then((snapshot) => {
        latest = { snapshot, at: Date.now() };
        return snapshot;
      })
      .catch((error: Error) => {
        latest = { ...latest, error: error.message, at: Date.now() };
        options.log?.(`dashboard refresh failed: ${error.message}`);
        throw error;
      })
      .finally(() => (running = undefined)));

  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const reply = (status: number, type: string, body: string | Buffer) => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      response.end(body);
    };
    if (request.method !== 'GET') return reply(405, 'text/plain', 'method not allowed');
    if (path === '/api/snapshot') {
      const fresh = latest.snapshot && Date.now() - latest.at < refreshMs;
      (fresh ? Promise.resolve(latest.snapshot) : refresh()).then(
        (snapshot) => reply(200, 'application/json', JSON.stringify({ refreshMs, ...snapshot })),
        (error: Error) => reply(503, 'application/json', JSON.stringify({ refreshMs, error: `the warehouse could not be read: ${error.message}`, stale: latest.snapshot ?? null })),
      );
      return;
    }
    const file = STATIC[path];
    if (!file) return reply(404, 'text/plain', 'not found');
    readFile(file).then(
      (body) => reply(200, TYPES[extname(file)] ?? 'application/octet-stream', body),
      () => reply(500, 'text/plain', 'could not read the page'),
    );
  });
  await new Promise<void>((done, fail) => server.once('error', fail).listen(options.port, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    refresh,
    stop: () =>
      new Promise<void>((done, fail) => {
        server.closeAllConnections();
        server.close((error) => (error ? fail(error) : done()));
      }),
  };
}
