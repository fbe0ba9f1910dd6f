import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { closer, listen } from '@invoice-pipeline/local-emulators';

/**
 * The local API Gateway in front of several serverless-offline processes. Deployed, the read functions of the stream
 * processor join ingest's REST API through compose (one URL, one set of keys); serverless-offline serves one service
 * per process and cannot mount another service's functions, so locally this router gives the API its one base URL:
 * each request goes, unchanged (headers, `x-api-key` included), to the process that serves its route, and each
 * process checks the key itself as API Gateway would.
 */

/** An HTTP event of a function, as serverless.yml declares it (`path: /invoices/{invoiceNo}`, `method: get`). */
export interface HttpRoute {
  method: string;
  path: string;
}

export interface ApiRouterOptions {
  /** Base URL of the process that serves every route not listed in `routes` (ingest: POST /invoices, /health). */
  fallback: string;
  /** Routes served by other processes: their base URL and their HTTP events. */
  routes: Array<{ target: string; events: HttpRoute[] }>;
  /** 0 (default): a free port on 127.0.0.1. */
  port?: number;
}

export interface RunningApiRouter {
  url: string;
  stop(): Promise<void>;
}

/** `/invoices/{invoiceNo}` → a pattern matching one non-empty path segment per parameter (`{proxy+}`: the rest). */
export function routePattern(path: string): RegExp {
  const segments = path
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .map((segment) => (/^\{[^}]+\+\}$/.test(segment) ? '.+' : /^\{[^}]+\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&')));
  return new RegExp(`^/${segments.join('/')}/?$`);
}

export async function startApiRouter(options: ApiRouterOptions): Promise<RunningApiRouter> {
  const table = options.routes.flatMap(({ target, events }) =>
    events.map((event) => ({ method: event.method.toUpperCase(), pattern: routePattern(event.path), target: new URL(target) })),
  );
  const fallback = new URL(options.fallback);
  // A connection of its own per request to the offline processes (a handshake on the loopback, ~0.1 ms). Kept-alive
  // connections raced serverless-offline's 5 s keep-alive timeout: Node's agent drops a free connection a second
  // before the server does, but this process also runs the warehouse and the replay, whose synchronous work can hold
  // the timer past that second; a request then went out on a connection the server was closing and was reset (502) or,
  // half-closed, never answered (the caller timed out after 30 s). Seen at the end of whole-dataset replays.
  const agent = new Agent({ keepAlive: false, maxSockets: 256 });

  const forward = (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const path = new URL(incoming.url ?? '/', 'http://local').pathname;
    const target = table.find((route) => (route.method === incoming.method || route.method === 'ANY') && route.pattern.test(path))?.target ?? fallback;
    const upstream = request(
      { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, host: target.host }, agent },
      (reply) => {
        outgoing.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(outgoing);
      },
    );
    upstream.on('error', (error) => {
      if (outgoing.headersSent) return void outgoing.destroy(error);
      outgoing.writeHead(502, { 'content-type': 'application/json' });
      outgoing.end(JSON.stringify({ message: `local API router: the service behind ${path} did not answer (${error.message})` }));
    });
    incoming.pipe(upstream);
  };

  const server = createServer(forward);
  server.keepAliveTimeout = 60_000;
  const port = await listen(server, options.port ?? 0);
  const close = closer(server);
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      await close();
      agent.destroy();
    },
  };
}
