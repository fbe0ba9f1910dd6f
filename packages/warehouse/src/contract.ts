import type { FieldProblem, NormalisedLine } from '@invoice-pipeline/transactions';
import tables from './tables.json';

/**
 * The warehouse table of invoice lines, one definition for Redshift and the local Postgres. Names and columns live in
 * tables.json.
 */
export interface WarehouseColumn {
  name: keyof WarehouseRow;
  type: string;
  nullable: boolean;
  /** The migration that added the column (absent: the first). */
  addedIn?: number;
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
  /** The delivery's version (recordVersion of its Kinesis sequence number): the newest version of an invoice wins. */
  record_version: string;
}

export const WAREHOUSE_COLUMNS = tables.columns as readonly WarehouseColumn[];

/** The columns a table created by migration `version` starts with; later ones are added by their own migration. */
export const columnsAsOf = (version: number): readonly WarehouseColumn[] => WAREHOUSE_COLUMNS.filter((c) => (c.addedIn ?? 1) <= version);

/** The identity of a line in every sink. */
export const WAREHOUSE_KEY = tables.key as readonly (keyof WarehouseRow)[];

export const WAREHOUSE_TABLES = { lines: tables.lines, staging: tables.staging, migrations: tables.migrations, loadedFiles: tables.loadedFiles } as const;

/** Engines the SQL is written for: Redshift in AWS, Postgres for the local stack (and any real Postgres). */
export type WarehouseDialect = 'postgres' | 'redshift';

export function toWarehouseRow(line: NormalisedLine, version: string): WarehouseRow {
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
    record_version: version,
  };
}

/**
 * Why the warehouse would refuse a row, from its column types (the one place the warehouse's bounds are written):
 * a NUMERIC with more integer or decimal digits than its precision allows, an INTEGER out of range, a VARCHAR longer
 * than its byte length (Redshift counts UTF-8 bytes), NUL or a lone surrogate in text (neither Redshift nor Postgres
 * store them), a missing NOT NULL value. Empty when every column can store its value.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

type ValueCheck = (value: unknown) => string[];

/** What a column of this type can store, from its SQL type: the messages of a value it cannot. */
function valueCheck(type: string): ValueCheck {
  const numeric = /^NUMERIC\((\d+),(\d+)\)$/.exec(type);
  if (numeric) {
    const [, precision, scale] = numeric.map(Number) as [number, number, number];
    return (value) => {
      const digits = /^[+-]?0*(\d*?)(?:\.(\d*?)0*)?$/.exec(String(value));
      if (!digits) return [`not a decimal for ${type}`];
      if ((digits[1] ?? '').length > precision - scale || (digits[2] ?? '').length > scale) return [`${String(value).slice(0, 60)} does not fit ${type}`];
      return [];
    };
  }
  if (type === 'INTEGER') {
    return (value) => (!Number.isSafeInteger(value) || (value as number) < -(2 ** 31) || (value as number) >= 2 ** 31 ? [`${String(value).slice(0, 60)} does not fit INTEGER`] : []);
  }
  const varchar = /^VARCHAR\((\d+)\)$/.exec(type);
  if (varchar) {
    const maxBytes = Number(varchar[1]);
    return (value) => {
      if (typeof value !== 'string') return [];
      const problems: string[] = [];
      // A string of n UTF-16 units is at most 3n UTF-8 bytes: most values need no count.
      const bytes = value.length * 3 > maxBytes ? Buffer.byteLength(value, 'utf8') : 0;
      if (bytes > maxBytes) problems.push(`${bytes} bytes exceed ${type}`);
      if (value.includes('\u0000')) problems.push('NUL character cannot be stored');
      if (LONE_SURROGATE.test(value)) problems.push('lone surrogate cannot be stored as UTF-8');
      return problems;
    };
  }
  return () => [];
}

/** Each column's check, made once from its type (the stream processor checks every line it sends). */
const COLUMN_CHECKS = WAREHOUSE_COLUMNS.map((column) => ({ column, check: valueCheck(column.type) }));

export function warehouseRowProblems(row: WarehouseRow): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const { column, check } of COLUMN_CHECKS) {
    const value = row[column.name];
    const path = column.name;
    if (value === null || value === undefined) {
      if (!column.nullable) problems.push({ path, message: `${column.type} NOT NULL column has no value` });
      continue;
    }
    for (const message of check(value)) problems.push({ path, message });
  }
  return problems;
}
