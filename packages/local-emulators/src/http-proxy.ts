import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';

/** The body of a request or reply, whole (the fault-injecting proxies in front of emulators read and forward with these). */
export function readBody(message: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    message.on('data', (chunk: Buffer) => chunks.push(chunk));
    message.on('end', () => resolve(Buffer.concat(chunks)));
    message.on('error', reject);
  });
}

/** Sends a request on to `target` and hands back the reply's status, headers and body. */
export function forward(target: URL, method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { host: target.hostname, port: target.port, method, path, headers: { ...headers, host: target.host, 'content-length': String(body.length) } },
      (reply) => void readBody(reply).then((replyBody) => resolve({ status: reply.statusCode ?? 500, headers: reply.headers, body: replyBody }), reject),
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
