/**
 * The one dialect seam of the analytics SQL. Every file under sql/analytics is written once for both engines; the
 * few spellings Redshift and Postgres do not share are macros, written `{{name}}` or `{{name arg, arg}}`, rendered
 * here. Anything else between braces is a parameter of the query (see queries.ts); an unknown name is an error, so
 * a typo never reaches an engine.
 */
export type AnalyticsDialect = 'postgres' | 'redshift';

type Macro = (args: string[]) => string;

const MACROS: Record<AnalyticsDialect, Record<string, Macro>> = {
  postgres: {
    // The session's clock as a TIMESTAMP (merged_at and loaded_at are written with now() in the same time zone).
    now: () => 'LOCALTIMESTAMP',
    // Whole days from the first DATE to the second.
    days_between: ([from, to]) => `(${to} - ${from})`,
    // Table options of a small dimension table.
    small_table: () => '',
  },
  redshift: {
    now: () => 'GETDATE()',
    days_between: ([from, to]) => `DATEDIFF(day, ${from}, ${to})`,
    // Small dimensions are copied to every node, so joins with the lines never redistribute them.
    small_table: () => 'DISTSTYLE ALL',
  },
};

const PLACEHOLDER = /\{\{(\w+)(?: ([^}]*))?\}\}/g;

/** Renders a SQL template for one engine: query parameters first, then the dialect's macros. */
export function renderSql(template: string, dialect: AnalyticsDialect, params: Readonly<Record<string, string>> = {}): string {
  return template.replace(PLACEHOLDER, (whole, name: string, rawArgs: string | undefined) => {
    if (Object.hasOwn(params, name)) return params[name] ?? '';
    const macro = MACROS[dialect][name];
    if (!macro) throw new Error(`unknown placeholder ${whole} in analytics SQL`);
    const args = rawArgs ? rawArgs.split(',').map((a) => a.trim()) : [];
    return macro(args);
  });
}
