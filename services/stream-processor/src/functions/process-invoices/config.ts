import { requiredEnv } from '@invoice-pipeline/function-config';

/** Everything processInvoices reads from its environment, read once per container and checked. */
export interface ProcessInvoicesConfig {
  tableName: string;
  warehouseDeliveryStream: string;
  /** The archive bucket: invalid or refused records go under its bad-rows/ prefix. */
  badRowsBucket: string;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): ProcessInvoicesConfig {
  const required = (name: string) => requiredEnv(env, 'processInvoices', name);
  return { tableName: required('TABLE_NAME'), warehouseDeliveryStream: required('WAREHOUSE_DELIVERY_STREAM'), badRowsBucket: required('BAD_ROWS_BUCKET') };
}
