import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { REPO_ROOT } from '@invoice-pipeline/local-stack';

/**
 * The Power BI connection file (`.pbids`, "Power BI data source") of a stage's warehouse: a JSON file that opens Power BI
 * Desktop's "Get data" with Power BI's Amazon Redshift connector, the server and the database filled in. It holds where
 * to connect and how (DirectQuery or Import), never who: Power BI asks the analyst for their own database user (a member
 * of the warehouse's read-only `analysts` role) or single sign-on, and keeps it in the analyst's own credential store.
 */

export type PowerBiMode = 'DirectQuery' | 'Import';

export interface PbidsConnection {
  details: {
    /** The data source kind of Power BI's Amazon Redshift connector (Power Query `AmazonRedshift.Database`). */
    protocol: 'amazonredshift';
    /** `server` is `host:port`, as the connector's Server field takes it. */
    address: { server: string; database: string };
  };
  options: Record<string, never>;
  mode: PowerBiMode;
}

export interface Pbids {
  version: '0.1';
  /** A .pbids file holds exactly one connection. */
  connections: [PbidsConnection];
}

export interface WarehouseEndpoint {
  /** The workgroup's endpoint address (the warehouse service's `Endpoint` output), a host name. */
  endpoint: string;
  /** The warehouse service's `Database` output. */
  database: string;
  /** Redshift's port: 5439 unless the workgroup was given another. */
  port?: number;
}

export const REDSHIFT_PORT = 5439;
const HOST = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;
const DATABASE = /^[a-z_][a-z0-9_$]{0,126}$/i;

/** The connection of one warehouse endpoint; throws on anything that is not a host, a database name or a port. */
export function pbidsFor(warehouse: WarehouseEndpoint, mode: PowerBiMode = 'DirectQuery'): Pbids {
  const port = warehouse.port ?? REDSHIFT_PORT;
  if (!HOST.test(warehouse.endpoint)) throw new Error(`warehouse endpoint ${JSON.stringify(warehouse.endpoint)} is not a host name (the warehouse service's Endpoint output)`);
  if (warehouse.endpoint.startsWith('offline-package-')) throw new Error(`warehouse endpoint ${warehouse.endpoint} is a packaging placeholder, not a deployed workgroup`);
  if (!DATABASE.test(warehouse.database)) throw new Error(`warehouse database ${JSON.stringify(warehouse.database)} is not a Redshift database name`);
  if (!Number.isInteger(port) || port < 1150 || port > 65535) throw new Error(`warehouse port ${port} is not a Redshift port (1150-65535)`);
  if (mode !== 'DirectQuery' && mode !== 'Import') throw new Error(`mode ${String(mode)} is neither DirectQuery nor Import`);
  return {
    version: '0.1',
    connections: [{ details: { protocol: 'amazonredshift', address: { server: `${warehouse.endpoint}:${port}`, database: warehouse.database } }, options: {}, mode }],
  };
}

/** Where `pnpm pbids` writes a stage's file. */
export const pbidsPath = (stage: string, root = REPO_ROOT) => resolve(root, '.serverless', 'powerbi', `invoice-warehouse-${stage}.pbids`);

/**
 * The warehouse service's outputs as the stage's deploy recorded them (`.serverless/state.<stage>.json`, written by
 * serverless-compose; the same file compose reads outputs from). Undefined when the stage was never deployed from here.
 */
export async function deployedWarehouse(stage: string, root = REPO_ROOT): Promise<{ endpoint: string; database: string } | undefined> {
  const text = await readFile(resolve(root, '.serverless', `state.${stage}.json`), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const state = JSON.parse(text) as { components?: Record<string, { outputs?: Record<string, unknown> }> };
  const outputs = state.components?.warehouse?.outputs ?? {};
  const endpoint = outputs.Endpoint;
  const database = outputs.Database;
  if (typeof endpoint !== 'string' || typeof database !== 'string') return undefined;
  return { endpoint, database };
}

export async function writePbids(path: string, pbids: Pbids): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(pbids, null, 2)}\n`);
}
