const ROWS_PER_INSERT = 1_000;

const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Loads rows with multi-row parameterised INSERTs of up to 1,000 rows (missing keys are NULL), through any `query`
 * (a `pg` client, a PGlite transaction). Run it inside a transaction for all-or-nothing, as a COPY is.
 */
export async function insertRows(
  query: (sql: string, params: unknown[]) => Promise<unknown>,
  table: string,
  columns: readonly string[],
  rows: ReadonlyArray<Record<string, unknown>>,
): Promise<void> {
  const names = columns.map(quoteIdentifier).join(', ');
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
    const chunk = rows.slice(start, start + ROWS_PER_INSERT);
    const tuples = chunk.map((_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`);
    const params = chunk.flatMap((row) => columns.map((column) => row[column] ?? null));
    await query(`INSERT INTO ${quoteIdentifier(table)} (${names}) VALUES ${tuples.join(', ')}`, params);
  }
}
