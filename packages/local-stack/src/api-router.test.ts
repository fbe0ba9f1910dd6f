import { createServer, type Server } from 'node:http';
import { closer, listen } from '@invoice-pipeline/local-emulators';
import { routePattern, startApiRouter, type RunningApiRouter } from './api-router';

/** Two plain servers that answer with their name, the method, path and the key they received. */
async function echo(name: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      response.writeHead(201, { 'content-type': 'application/json', etag: '"e1"' });
      response.end(JSON.stringify({ name, method: request.method, url: request.url, key: request.headers['x-api-key'] ?? null, body }));
    });
  });
  const port = await listen(server, 0);
  return { url: `http://127.0.0.1:${port}`, stop: closer(server) };
}

describe('the local API router', () => {
  let ingest: Awaited<ReturnType<typeof echo>>;
  let reader: Awaited<ReturnType<typeof echo>>;
  let router: RunningApiRouter;

  beforeAll(async () => {
    [ingest, reader] = await Promise.all([echo('ingest'), echo('reader')]);
    router = await startApiRouter({
      fallback: ingest.url,
      routes: [{ target: reader.url, events: [{ method: 'get', path: '/invoices/{invoiceNo}' }, { method: 'get', path: 'customers/{customerId}/invoices' }] }],
    });
  });
  afterAll(async () => {
    await router?.stop();
    await Promise.all([ingest?.stop(), reader?.stop()]);
  });

  it('sends each route to its service, unchanged (method, path, query, headers, body, status)', async () => {
    const call = async (method: string, path: string, body?: string) => {
      const reply = await fetch(`${router.url}${path}`, { method, headers: { 'x-api-key': 'k1' }, ...(body ? { body } : {}) });
      return { status: reply.status, etag: reply.headers.get('etag'), ...((await reply.json()) as Record<string, unknown>) };
    };
    expect(await call('GET', '/invoices/C536379?x=1')).toEqual({ status: 201, etag: '"e1"', name: 'reader', method: 'GET', url: '/invoices/C536379?x=1', key: 'k1', body: '' });
    expect(await call('GET', '/customers/17850/invoices?limit=5')).toMatchObject({ name: 'reader', url: '/customers/17850/invoices?limit=5' });
    expect(await call('POST', '/invoices', '{"a":1}')).toMatchObject({ name: 'ingest', method: 'POST', body: '{"a":1}', key: 'k1' });
    // Same path, another method; a path one segment longer: not the reader's routes.
    expect(await call('POST', '/invoices/536365')).toMatchObject({ name: 'ingest' });
    expect(await call('GET', '/invoices/536365/lines')).toMatchObject({ name: 'ingest' });
    expect(await call('GET', '/health')).toMatchObject({ name: 'ingest' });
  });

  it('a service that does not answer is a 502 saying which route, not a hang', async () => {
    const broken = await startApiRouter({ fallback: 'http://127.0.0.1:9', routes: [] });
    try {
      const reply = await fetch(`${broken.url}/invoices`, { method: 'POST', body: '{}' });
      expect(reply.status).toBe(502);
      expect(((await reply.json()) as { message: string }).message).toMatch(/\/invoices did not answer/);
    } finally {
      await broken.stop();
    }
  });

  it('turns path parameters into one segment each', () => {
    expect(routePattern('/invoices/{invoiceNo}').test('/invoices/536365')).toBe(true);
    expect(routePattern('/invoices/{invoiceNo}').test('/invoices/')).toBe(false);
    expect(routePattern('/files/{proxy+}').test('/files/a/b')).toBe(true);
  });

  it('sends each request on a connection of its own, so none goes out on one the service is closing', async () => {
    let connections = 0;
    const service = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.end('ok'));
    });
    service.on('connection', () => (connections += 1));
    const port = await listen(service, 0);
    const own = await startApiRouter({ fallback: `http://127.0.0.1:${port}`, routes: [] });
    try {
      for (let n = 0; n < 3; n += 1) {
        const reply = await fetch(`${own.url}/invoices`, { method: 'POST', body: '{}' });
        expect([reply.status, await reply.text()]).toEqual([200, 'ok']);
      }
      expect(connections).toBe(3);
    } finally {
      await own.stop();
      await closer(service)();
    }
  });
});
