/**
 * The Redshift side of the dialect seam, checked without a cluster: every query and script, rendered for Redshift,
 * parses as SQL and calls only functions checked against the Amazon Redshift SQL reference; none of the Postgres
 * spellings Redshift lacks slips in. (The Postgres side runs for real in analytics.test.ts.)
 */
import { Parser } from 'node-sql-parser';
import { ANALYTICS_QUERY_NAMES, analyticsScript, analyticsSql, renderSql } from '../src/analytics';

/** Functions used by the analytics SQL, each checked in the Redshift SQL reference (and present in Postgres). */
const CHECKED_FUNCTIONS = new Set(['AVG', 'CAST', 'COALESCE', 'COUNT', 'DATEDIFF', 'DATE_TRUNC', 'EXTRACT', 'GETDATE', 'LEFT', 'MAX', 'MIN', 'NTILE', 'NULLIF', 'ROUND', 'ROW_NUMBER', 'SUM', 'TO_CHAR', 'UPPER']);
/** Postgres spellings Redshift rejects or reads differently. */
const POSTGRES_ONLY = [/::/, /\bFILTER\s*\(/i, /\bDISTINCT\s+ON\b/i, /\bGENERATE_SERIES\b/i, /\bLATERAL\b/i, /\bNOW\s*\(/i, /\bLOCALTIMESTAMP\b/i, /\bON\s+CONFLICT\b/i, /\bRETURNING\b/i, /->>?/, /\bINTERVAL\s+'/i];
/** A Redshift table attribute (CREATE TABLE … DISTSTYLE ALL) the parser does not know; checked by hand in the reference. */
const TABLE_ATTRIBUTE = /\)\s*DISTSTYLE ALL;/g;

const parser = new Parser();
const withoutComments = (sql: string) => sql.replace(/--[^\n]*/g, '');

function functionsOf(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const item of node) functionsOf(item, found);
  else if (node && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (record.type === 'function' || record.type === 'aggr_func' || record.type === 'window_func') {
      const name = record.name as unknown;
      const text = typeof name === 'string' ? name : JSON.stringify(name).match(/"value":"([A-Za-z_]+)"/)?.[1];
      if (text) found.add(text.toUpperCase());
    }
    if (record.type === 'cast') found.add('CAST');
    if (record.type === 'extract') found.add('EXTRACT');
    for (const value of Object.values(record)) functionsOf(value, found);
  }
  return found;
}

const rendered = [
  ...ANALYTICS_QUERY_NAMES.map((name) => [name, analyticsSql(name, 'redshift')] as const),
  ['schema', analyticsScript('schema', 'redshift').replace(TABLE_ATTRIBUTE, ');')] as const,
  ['rebuild', analyticsScript('rebuild', 'redshift')] as const,
];

describe('analytics SQL rendered for Redshift', () => {
  it.each(rendered)('%s parses and uses only checked functions', (_name, sql) => {
    const ast = parser.astify(withoutComments(sql), { database: 'Redshift' });
    const unchecked = [...functionsOf(ast)].filter((f) => !CHECKED_FUNCTIONS.has(f));
    expect(unchecked).toEqual([]);
    for (const pattern of POSTGRES_ONLY) expect(withoutComments(sql)).not.toMatch(pattern);
  });

  it('renders the dialect seam for each engine, and refuses an unknown placeholder', () => {
    expect(renderSql('SELECT {{now}}, {{days_between a, b}}', 'redshift')).toBe('SELECT GETDATE(), DATEDIFF(day, a, b)');
    expect(renderSql('SELECT {{now}}, {{days_between a, b}}', 'postgres')).toBe('SELECT LOCALTIMESTAMP, (b - a)');
    expect(analyticsScript('schema', 'redshift')).toMatch(/DISTSTYLE ALL/);
    expect(() => renderSql('SELECT {{nope}}', 'postgres')).toThrow(/unknown placeholder/);
  });

  it('catches what it claims to: a Postgres-only spelling or an unchecked function fails', () => {
    const ast = parser.astify('SELECT MEDIAN(x), COUNT(*) FROM t', { database: 'Redshift' });
    expect([...functionsOf(ast)].filter((f) => !CHECKED_FUNCTIONS.has(f))).toEqual(['MEDIAN']);
    expect(POSTGRES_ONLY.some((p) => p.test('SELECT x::int FROM t'))).toBe(true);
  });
});
