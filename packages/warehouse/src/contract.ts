import type { NormalisedLine } from '@invoice-pipeline/transactions';
import tables from './tables.json';

/**
 * The warehouse table of invoice lines, one definition for Redshift and the local Postgres. Names and columns live in
 * tables.json, which serverless.yml reads too (through serverless.js) for Firehose's COPY.
 */
export interface WarehouseColumn {
  name: keyof WarehouseRow;
  type: string;
  nullable: boolean;
}

export interface WarehouseRow {
  invoice_no: string;
  line_no: number;
  invoice_type: string;
  invoice_date: string;
  customer_id: string | null;
  country: string;
  store_id: string;
  stock_code: string;
  description: string | null;
  quantity: number;
  unit_price: string;
  line_total: string;
}

export const WAREHOUSE_COLUMNS = tables.columns as readonly WarehouseColumn[];

/** The identity of a line in every sink. */
export const WAREHOUSE_KEY = tables.key as readonly (keyof WarehouseRow)[];

export const WAREHOUSE_TABLES = { lines: tables.lines, staging: tables.staging, migrations: tables.migrations } as const;

/** Engines the SQL is written for: Redshift in AWS, Postgres for the local stack (and any real Postgres). */
export type WarehouseDialect = 'postgres' | 'redshift';

export function toWarehouseRow(line: NormalisedLine): WarehouseRow {
  return {
    invoice_no: line.invoiceNo,
    line_no: line.lineNo,
    invoice_type: line.invoiceType,
    invoice_date: line.invoiceDate,
    customer_id: line.customerId,
    country: line.country,
    store_id: line.storeId,
    stock_code: line.stockCode,
    description: line.description,
    quantity: line.quantity,
    unit_price: line.unitPrice,
    line_total: line.lineTotal,
  };
}
