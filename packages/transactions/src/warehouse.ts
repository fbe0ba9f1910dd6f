import type { NormalisedLine } from './schemas';

/**
 * The warehouse table of invoice lines, one definition for Redshift and the local Postgres.
 * `redshift` and `postgres` differ only where the engines do; dist/sort keys are Redshift-only.
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

export const WAREHOUSE_COLUMNS: readonly WarehouseColumn[] = [
  { name: 'invoice_no', type: 'VARCHAR(24)', nullable: false },
  { name: 'line_no', type: 'INTEGER', nullable: false },
  { name: 'invoice_type', type: 'VARCHAR(16)', nullable: false },
  { name: 'invoice_date', type: 'TIMESTAMP', nullable: false },
  { name: 'customer_id', type: 'VARCHAR(64)', nullable: true },
  { name: 'country', type: 'VARCHAR(2000)', nullable: false },
  { name: 'store_id', type: 'VARCHAR(64)', nullable: false },
  { name: 'stock_code', type: 'VARCHAR(2000)', nullable: false },
  { name: 'description', type: 'VARCHAR(2000)', nullable: true },
  { name: 'quantity', type: 'INTEGER', nullable: false },
  { name: 'unit_price', type: 'NUMERIC(18,3)', nullable: false },
  { name: 'line_total', type: 'NUMERIC(20,3)', nullable: false },
];

/** The identity of a line in every sink. */
export const WAREHOUSE_KEY = ['invoice_no', 'line_no'] as const;

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
