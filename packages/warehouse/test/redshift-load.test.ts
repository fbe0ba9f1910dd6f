/**
 * The load side of the warehouse (migrations, the loader's COPY of staged files, its record of loaded files and the one
 * MERGE), rendered for Redshift and held to the Amazon Redshift
 * SQL reference without a cluster: every Redshift-only construct it uses is listed below with the reference page and
 * what the pipeline relies on, and a construct not listed fails the test. (The Postgres side runs for real on the
 * embedded warehouse and on PostgreSQL.)
 */
import { ANALYST_READABLE, batchFileReplaceStatements, BATCH_FRESH_TABLE, BATCH_TABLES, copyManifest, mergeBatchFileStatements, loadedFilesQuery, mergeStagedStatements, MIGRATIONS_TABLE_DDL, recordLoadedFilesStatement, redshiftCopyStatement, STAGED_COPY_COLUMNS, WAREHOUSE_COLUMNS, WAREHOUSE_MIGRATIONS, WAREHOUSE_TABLES } from '../src';

const REFERENCE = 'https://docs.aws.amazon.com/redshift/latest/dg';

/** Redshift-specific constructs, each checked in the reference, with what the pipeline relies on. */
const CHECKED: Array<{ construct: RegExp; page: string; reliesOn: string }> = [
  { construct: /\bDISTSTYLE KEY DISTKEY \(invoice_no\)/, page: 'r_CREATE_TABLE_NEW.html', reliesOn: 'all lines of an invoice on one slice: the MERGE join and per-invoice analytics need no redistribution' },
  { construct: /\bCOMPOUND SORTKEY \(invoice_date, invoice_no\)/, page: 'r_CREATE_TABLE_NEW.html', reliesOn: 'zone maps skip blocks outside a date range, the filter of every analytics query' },
  { construct: /\bPRIMARY KEY \(invoice_no, line_no\)/, page: 't_Defining_constraints.html', reliesOn: 'informational only (Redshift does not enforce it): uniqueness comes from the MERGE, the planner may use the hint' },
  { construct: /\bGETDATE\(\)/, page: 'r_GETDATE.html', reliesOn: 'the current timestamp (Redshift has no now()); used for loaded_at and merged_at' },
  { construct: /\bCREATE TABLE IF NOT EXISTS\b/, page: 'r_CREATE_TABLE_NEW.html', reliesOn: 'a migration re-run after a partial failure is harmless' },
  { construct: /^LOCK [a-z_]+;/m, page: 'r_LOCK.html', reliesOn: 'an exclusive lock on staging until commit: a COPY cannot land between the MERGE and the DELETE of staging' },
  { construct: /\bCREATE TEMP TABLE [a-z_]+ AS\b/, page: 'r_CREATE_TABLE_AS.html', reliesOn: 'the deduplicated MERGE source is a table, because MERGE accepts no subquery, CTE or view as its source' },
  { construct: /\bMERGE INTO [a-z_]+ USING [a-z_]+ AS src\b/, page: 'r_MERGE.html', reliesOn: 'source_table is a temporary or permanent table; two source rows matching one target row is an error, so the source has one row per key' },
  { construct: /\bDELETE FROM [a-z_]+ USING [a-z_]+/, page: 'r_DELETE.html', reliesOn: 'DELETE with a USING join removes the lines an invoice no longer has' },
  { construct: /\bALTER TABLE [a-z_]+ ADD COLUMN [a-z_]+ [A-Z0-9(),]+ NOT NULL DEFAULT ''/, page: 'r_ALTER_TABLE.html', reliesOn: 'a column added with a default fills existing rows (Redshift takes DEFAULT and NOT NULL in ADD COLUMN, not IF NOT EXISTS: the migration runs once, by version)' },
  { construct: /\bDROP TABLE IF EXISTS\b/, page: 'r_DROP_TABLE.html', reliesOn: 'a leftover temporary table of a failed session never blocks the next merge' },
  { construct: /^COPY [a-z_]+ \([a-z_, ]+\)$/m, page: 'r_COPY.html', reliesOn: 'COPY with a column list fills those columns; the others (loaded_at) take their DEFAULT, GETDATE() at load time' },
  { construct: /^IAM_ROLE '[^']+'$/m, page: 'copy-parameters-authorization.html', reliesOn: "IAM_ROLE names the namespace's COPY role (read-only on the staging prefixes): no keys in the statement" },
  { construct: /^MANIFEST FORMAT AS JSON 'auto' GZIP TIMEFORMAT 'auto';$/m, page: 'copy-parameters-data-source-s3.html', reliesOn: 'MANIFEST: FROM names a manifest listing exactly the files to load (a plain FROM is a key prefix and would load every key it prefixes); a mandatory entry that is missing fails the COPY' },
  { construct: /\bFORMAT AS JSON 'auto'/, page: 'copy-parameters-data-format.html', reliesOn: "JSON 'auto' maps each object's keys to column names, case-sensitively, so keys must be the lowercase column names the rows carry; concatenated or newline-separated objects both load" },
  { construct: /\bGZIP\b/, page: 'copy-parameters-file-compression.html', reliesOn: 'the staged files are gzip, as Firehose writes them with CompressionFormat GZIP' },
  { construct: /\bTIMEFORMAT 'auto'/, page: 'automatic-recognition.html', reliesOn: "TIMEFORMAT 'auto' recognises ISO 8601 (2010-12-01T08:26:00), the invoice_date the rows carry" },
  // Migration 5: the analytics layer and the analysts' read-only role.
  { construct: /^\) DISTSTYLE ALL;$/m, page: 'c_choosing_dist_sort.html', reliesOn: 'a small dimension (dates, products, customers, RFM) is copied to every node, so joins with the lines never redistribute it' },
  { construct: /^CREATE OR REPLACE VIEW fact_invoice_lines AS$/m, page: 'r_CREATE_VIEW.html', reliesOn: 'a standard view (not WITH NO SCHEMA BINDING): querying it needs SELECT on the view only, not on invoice_lines; OR REPLACE keeps the same columns' },
  { construct: /^CREATE ROLE analysts;$/m, page: 'r_CREATE_ROLE.html', reliesOn: 'a role (role-based access control) that analysts\' users are granted; no IF NOT EXISTS exists, so the versioned migration creates it once per database' },
  { construct: /^REVOKE CREATE ON SCHEMA public FROM PUBLIC;$/m, page: 'r_REVOKE.html', reliesOn: 'Redshift lets PUBLIC create tables in the public schema by default; revoked, only the owner and superusers (the loader, the Glue job) create objects there' },
  { construct: /^GRANT USAGE ON SCHEMA public TO ROLE analysts;$/m, page: 'r_GRANT.html', reliesOn: 'USAGE lets the role look up objects in the schema and grants no privilege on any of them; TO ROLE names a role (a bare name is a user)' },
  { construct: /^GRANT SELECT ON TABLE invoice_lines, [a-z_, ]+ TO ROLE analysts;$/m, page: 'r_GRANT.html', reliesOn: 'SELECT on a list of tables and views, nothing on staging or the record of loaded files; GRANT runs in the migration transaction (only grants on external resources may not)' },
];

/** Spellings that are Postgres-only (or mean something else in Redshift). */
// UNLOGGED: Redshift has no such table option (batch staging is unlogged on Postgres only). TRUNCATE: Redshift's
// commits the transaction it runs in (r_TRUNCATE.html), which would split a dump's merge in two.
const POSTGRES_ONLY = [/\bUNLOGGED\b/i, /\bTRUNCATE\b/i, /::/, /\bON\s+CONFLICT\b/i, /\bRETURNING\b/i, /\bNOW\s*\(/i, /\bLOCK TABLE\b.*\bIN\b.*\bMODE\b/i, /\bCREATE INDEX\b/i, /\bUSING \(/, /\bDO \$\$/, /\bNOLOGIN\b/i, /\bLOCALTIMESTAMP\b/i];

const stagedFile = { key: 'warehouse/2026/11/25/10/invoice-stream-processor-prod-warehouse-1-2026-11-25-10-00-00-x.gz', bytes: 2048 };
/** One loader run as the Data API receives it: the COPY, the record of its files and the MERGE, in one batch. */
const loadBatch = [
  redshiftCopyStatement('s3://staging-bucket/manifests/2026-11-25/run.manifest', 'arn:aws:iam::111111111111:role/copy'),
  recordLoadedFilesStatement('redshift', [stagedFile]),
  ...mergeStagedStatements('redshift'),
];
/** The Glue job's statements for one dump file: the preaction before its COPY, the postactions (one transaction) after. */
const dumpFile = "incoming/2026-11-25/o'brien.csv";
const batchFile = [...batchFileReplaceStatements(dumpFile), ...mergeBatchFileStatements('redshift', dumpFile, { lines: 12, rejected: 3 })];
const redshiftStatements = [MIGRATIONS_TABLE_DDL, ...WAREHOUSE_MIGRATIONS.flatMap((m) => m.statements('redshift')), loadedFilesQuery(stagedFile.key), ...loadBatch, ...batchFile];
const script = redshiftStatements.join('\n');
/** The script without its string literals (an ARN's '::' is not a Postgres cast). */
const code = script.replace(/'(?:[^']|'')*'/g, "''");

/** Constructs that exist only in Redshift's dialect (or only matter there): each must be listed in CHECKED. */
const REDSHIFT_KEYWORDS = /\b(DISTSTYLE|DISTKEY|SORTKEY|ENCODE|GETDATE|LOCK|MERGE|TEMP|IDENTITY|BACKUP|INTERLEAVED|COPY|IAM_ROLE|MANIFEST|JSON|GZIP|TIMEFORMAT|VIEW|ROLE|GRANT|REVOKE)\b/g;

describe('the load SQL rendered for Redshift', () => {
  it('uses only constructs checked against the Redshift SQL reference', () => {
    for (const statement of redshiftStatements) {
      for (const keyword of statement.match(REDSHIFT_KEYWORDS) ?? []) {
        const line = statement.split('\n').find((l) => l.includes(keyword)) as string;
        expect({ keyword, line, checked: CHECKED.some((c) => c.construct.test(line)) }).toEqual({ keyword, line, checked: true });
      }
    }
    for (const pattern of POSTGRES_ONLY) expect(code).not.toMatch(pattern);
  });

  it('says what each checked construct is relied on for, and each is in use', () => {
    for (const { construct, page, reliesOn } of CHECKED) {
      expect(script).toMatch(construct);
      expect(`${REFERENCE}/${page}`).toMatch(/^https:\/\/docs\.aws\.amazon\.com\/redshift\/latest\/dg\/[a-zA-Z0-9_-]+\.html$/);
      expect(reliesOn.length).toBeGreaterThan(20);
    }
  });

  it('merges from a table built, deduplicated, in the same transaction before the MERGE', () => {
    const merge = redshiftStatements.findIndex((s) => s.startsWith('MERGE INTO'));
    const source = /USING ([a-z_]+) AS src/.exec(redshiftStatements[merge] as string)?.[1];
    const created = redshiftStatements.findIndex((s) => s.startsWith(`CREATE TEMP TABLE ${source} AS`));
    expect(created).toBeGreaterThanOrEqual(0);
    expect(created).toBeLessThan(merge);
    expect(redshiftStatements[created]).toMatch(/ROW_NUMBER\(\) OVER \(PARTITION BY [^)]*invoice_no, [a-z.]*line_no/);
  });

  it("merges a dump file's staged lines straight from batch staging, with the stream's MERGE, removing only that file's lines", () => {
    const merge = mergeBatchFileStatements('redshift', dumpFile, { lines: 12, rejected: 3 });
    const source = merge.find((s) => s.startsWith('CREATE TEMP TABLE invoice_lines_merge_versions')) as string;
    expect(source).toContain(`FROM ${BATCH_TABLES.staging} b JOIN ${BATCH_TABLES.segments} g ON g.invoice_no = b.invoice_no AND g.source_file = b.source_file`);
    expect(source).toContain('g.first_line_no + b.line_in_file - 1 AS line_no');
    expect(merge.join('\n')).not.toContain(`INSERT INTO ${WAREHOUSE_TABLES.staging} `);
    expect(merge.filter((s) => s.startsWith('MERGE INTO'))).toEqual(mergeStagedStatements('redshift').filter((s) => s.startsWith('MERGE INTO')));
    expect(merge).toContain(`DELETE FROM ${BATCH_TABLES.staging} WHERE source_file = 'incoming/2026-11-25/o''brien.csv';`);
    expect(merge).not.toContain(`DELETE FROM ${WAREHOUSE_TABLES.staging};`);
  });

  it("INSERTs a dump's fresh invoices (nothing of them landed, no segment) under both locks, and MERGEs the rest", () => {
    const merge = mergeBatchFileStatements('redshift', dumpFile, { lines: 12, rejected: 3 });
    const at = (start: string) => merge.findIndex((s) => s.startsWith(start));
    const fresh = merge[at(`CREATE TEMP TABLE ${BATCH_FRESH_TABLE} AS`)] as string;
    expect(fresh).toContain(`NOT EXISTS (SELECT 1 FROM ${WAREHOUSE_TABLES.lines} l WHERE l.invoice_no = f.invoice_no)`);
    expect(fresh).toContain(`NOT EXISTS (SELECT 1 FROM ${BATCH_TABLES.segments} e WHERE e.invoice_no = f.invoice_no)`);
    const insert = at(`INSERT INTO ${WAREHOUSE_TABLES.lines} `);
    expect(merge[insert]).toContain(`b.line_in_file, `);
    expect(merge[insert]).toContain(`JOIN ${BATCH_FRESH_TABLE} f ON f.invoice_no = b.invoice_no WHERE b.source_file = 'incoming/2026-11-25/o''brien.csv'`);
    expect([at(`LOCK ${BATCH_TABLES.segments};`), at(`LOCK ${WAREHOUSE_TABLES.staging};`)]).toEqual([0, 1]);
    expect(insert).toBeGreaterThan(at(`CREATE TEMP TABLE ${BATCH_FRESH_TABLE} AS`));
    // Their staged lines leave staging before the MERGE reads it, so no line is written twice.
    expect(at(`DELETE FROM ${BATCH_TABLES.staging} USING ${BATCH_FRESH_TABLE} f`)).toBeGreaterThan(insert);
    expect(at(`DELETE FROM ${BATCH_TABLES.staging} USING ${BATCH_FRESH_TABLE} f`)).toBeLessThan(at('CREATE TEMP TABLE invoice_lines_merge_versions'));
  });

  it('COPYs every column of the row, by its lowercase name, from a manifest of exactly the new files', () => {
    const copy = loadBatch[0] as string;
    expect(STAGED_COPY_COLUMNS).toEqual(WAREHOUSE_COLUMNS.map((c) => c.name));
    for (const column of STAGED_COPY_COLUMNS) expect(column).toMatch(/^[a-z_]+$/);
    expect(copy).toContain(`(${STAGED_COPY_COLUMNS.join(', ')})`);
    expect(JSON.parse(copyManifest('staging-bucket', [stagedFile]))).toEqual({ entries: [{ url: `s3://staging-bucket/${stagedFile.key}`, mandatory: true, meta: { content_length: 2048 } }] });
  });

  it('records the files in the same batch as their COPY and MERGE, so a file is loaded once or not at all', () => {
    expect(loadBatch[1]).toMatch(/^INSERT INTO staged_files_loaded \(file_key, bytes, loaded_at\) VALUES\n\('warehouse\/[^']+', 2048, GETDATE\(\)\);$/);
    expect(loadBatch.slice(2)).toEqual(mergeStagedStatements('redshift'));
    expect(recordLoadedFilesStatement('redshift', [{ key: "it's", bytes: 1 }])).toContain("'it''s'");
  });

  it("grants the analysts' role USAGE and SELECT on the lines and the analytics layer only, after the layer exists", () => {
    const migration = WAREHOUSE_MIGRATIONS.find((m) => m.version === 5)?.statements('redshift') ?? [];
    const grants = migration.filter((statement) => /^(GRANT|REVOKE)\b/.test(statement));
    expect(grants).toEqual([
      'REVOKE CREATE ON SCHEMA public FROM PUBLIC;',
      'GRANT USAGE ON SCHEMA public TO ROLE analysts;',
      `GRANT SELECT ON TABLE ${ANALYST_READABLE.join(', ')} TO ROLE analysts;`,
    ]);
    for (const pipelineTable of [WAREHOUSE_TABLES.staging, WAREHOUSE_TABLES.loadedFiles, WAREHOUSE_TABLES.migrations, ...Object.values(BATCH_TABLES)]) {
      expect(ANALYST_READABLE).not.toContain(pipelineTable);
    }
    const created = (name: string) => migration.findIndex((statement) => new RegExp(`^CREATE (TABLE IF NOT EXISTS|OR REPLACE VIEW) ${name}\\b`).test(statement));
    const grantSelect = migration.findIndex((statement) => statement.startsWith('GRANT SELECT'));
    for (const object of ANALYST_READABLE.slice(1)) expect(created(object)).toBeLessThan(grantSelect);
    expect(created('dim_date')).toBeGreaterThan(migration.indexOf('CREATE ROLE analysts;'));
  });

  it('would catch a subquery source or an unchecked construct', () => {
    expect(POSTGRES_ONLY.some((p) => p.test('MERGE INTO t USING (SELECT * FROM s) AS src ON t.k = src.k'))).toBe(true);
    const line = 'CREATE TABLE x (a INT ENCODE az64)';
    expect(CHECKED.some((c) => c.construct.test(line))).toBe(false);
    expect(line.match(REDSHIFT_KEYWORDS)).toEqual(['ENCODE']);
  });
});
