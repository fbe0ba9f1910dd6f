/**
 * What a Firehose Redshift destination needs from the warehouse: a COPY-equivalent bulk load.
 * Redshift runs `COPY table (columns) FROM 's3://…' FORMAT AS JSON 'auto'`; locally the same rows are loaded into
 * Postgres in one transaction, all or nothing, so a failed load can be retried without duplicates or gaps.
 */
export interface WarehouseLoader {
  /** Loads rows (objects keyed by column name; missing keys are NULL) into `table`. Throws when the warehouse is unreachable or rejects the load. */
  copyRows(table: string, columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): Promise<void>;
}
