// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- ambient types of the untyped emulators, for every project that compiles this file
/// <reference path="./types/emulators.d.ts" />
import type { Server } from 'node:http';
import { mkdir } from 'node:fs/promises';
import dynalite from 'dynalite';
import kinesalite from 'kinesalite';
import S3rver from 's3rver';

/** A running local server: where it listens and how to stop it. */
export interface RunningServer {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

/** Listens on 127.0.0.1 (`port` 0: a free one) and resolves to the port bound. */
export function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** Stops a server, cutting kept-alive connections so the close does not wait for clients. */
export function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections?.();
    });
}

export interface EmulatorOptions {
  /** 0 picks a free port. */
  port: number;
  /** Folder that keeps the data between runs; in memory when absent. */
  dataDir?: string;
}

/** Kinesis (kinesalite), in-process. Streams become ACTIVE at once. */
export async function startKinesis(options: EmulatorOptions): Promise<RunningServer> {
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const server = kinesalite({ path: options.dataDir, createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 }) as Server;
  const port = await listen(server, options.port);
  return { endpoint: `http://127.0.0.1:${port}`, port, stop: closer(server) };
}

/** DynamoDB (dynalite), in-process. Tables become ACTIVE at once. */
export async function startDynamoDb(options: EmulatorOptions): Promise<RunningServer> {
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const server = dynalite({ path: options.dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
  const port = await listen(server, options.port);
  return { endpoint: `http://127.0.0.1:${port}`, port, stop: closer(server) };
}

/** S3 (s3rver), in-process; objects are files under dataDir (a temp folder when absent). */
export async function startS3(options: EmulatorOptions & { dataDir: string }): Promise<RunningServer> {
  await mkdir(options.dataDir, { recursive: true });
  const s3rver = new S3rver({ address: '127.0.0.1', port: options.port, directory: options.dataDir, silent: true, allowMismatchedSignatures: true });
  const { port } = await s3rver.run();
  return { endpoint: `http://127.0.0.1:${port}`, port, stop: () => s3rver.close() };
}
