import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { gzipSync } from 'node:zlib';
import { startTestS3, type TestS3 } from '@invoice-pipeline/local-emulators/testing';
import { normaliseInvoice, recordVersion, type Invoice } from '@invoice-pipeline/transactions';
import { LOADED_PREFIX, loadedKey, loadStagedFiles, STAGED_PREFIX, toWarehouseRow, WAREHOUSE_TABLES, type LoaderSession, type StagedFile } from '@invoice-pipeline/warehouse';
import { listStagedFiles, moveToLoaded } from '@invoice-pipeline/warehouse/s3';
import type { Warehouse } from '@invoice-pipeline/warehouse/postgres';
import { analyseAsAutovacuum, localLoaderSession } from './staged-load';
import { startTestWarehouse, warehouseEngines } from './test-warehouse';

/**
 * The loader of the streaming path (the deployed mergeWarehouse function's own code) on the local warehouse: staged
 * files in S3 are COPYed once, recorded with the MERGE in one transaction, and a failed load leaves no trace.
 */
const BUCKET = 'staging';
const invoice = (invoiceNo: string, lines: number): Invoice => ({
  invoiceNo,
  invoiceDate: '2011-03-01T10:00:00',
  customerId: '17850',
  country: 'United Kingdom',
  storeId: 'store-001',
  lines: Array.from({ length: lines }, (_, i) => ({ stockCode: `S${i}`, description: `item "${i}", £`, quantity: i + 1, unitPrice: '1.005' })),
});
/** A file as Firehose stages it: newline-delimited JSON rows, gzip. */
const stagedFile = (...invoices: Invoice[]) =>
  gzipSync(invoices.flatMap((inv) => normaliseInvoice(inv).map((line) => `${JSON.stringify(toWarehouseRow(line, recordVersion('7')))}\n`)).join(''));

describe.each(warehouseEngines)('loading staged files (%s warehouse)', (engine) => {
  let s3: TestS3;
  let warehouse: Warehouse;
  let session: LoaderSession;
  const put = (key: string, body: Buffer) => s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  const load = (maxFiles?: number) => loadStagedFiles({ listStaged: () => listStagedFiles(s3.client, BUCKET, STAGED_PREFIX), session, maxFiles });
  const totals = async () =>
    (await warehouse.query<{ lines: number; revenue: string }>(`SELECT count(*)::int AS lines, COALESCE(sum(line_total), 0)::text AS revenue FROM ${WAREHOUSE_TABLES.lines}`))[0];
  const loadedKeys = async () => (await warehouse.query<{ file_key: string }>(`SELECT file_key FROM ${WAREHOUSE_TABLES.loadedFiles} ORDER BY file_key`)).map((r) => r.file_key);

  beforeAll(async () => {
    [s3, warehouse] = await Promise.all([startTestS3([BUCKET]), startTestWarehouse(engine)]);
    session = localLoaderSession(warehouse, s3.client, BUCKET);
  }, 120_000);
  afterAll(async () => {
    await warehouse?.close();
    await s3?.stop();
  });

  it('COPYs each new file once, records it with the merge, and leaves a re-run nothing to do', async () => {
    expect(await load()).toEqual({ listed: 0, loaded: 0, bytes: 0, remaining: 0, moved: 0 });
    await put('warehouse/2011/03/01/10/a.gz', stagedFile(invoice('500001', 3)));
    // A redelivered batch: the same rows again in another file. Loaded (it is a new file), collapsed by the MERGE.
    await put('warehouse/2011/03/01/10/b.gz', stagedFile(invoice('500001', 3), invoice('500002', 2)));
    await put('elsewhere/ignored.gz', stagedFile(invoice('599999', 1)));
    expect(await load()).toMatchObject({ listed: 2, loaded: 2, remaining: 0 });
    expect(await totals()).toEqual({ lines: 5, revenue: '9.045' });
    expect(await loadedKeys()).toEqual(['warehouse/2011/03/01/10/a.gz', 'warehouse/2011/03/01/10/b.gz']);
    expect(await warehouse.query(`SELECT 1 FROM ${WAREHOUSE_TABLES.staging}`)).toEqual([]);

    expect(await load()).toMatchObject({ listed: 2, loaded: 0 });
    await put('warehouse/2011/03/01/11/c.gz', stagedFile(invoice('500003', 1)));
    expect(await load()).toMatchObject({ listed: 3, loaded: 1 });
    expect(await totals()).toEqual({ lines: 6, revenue: '10.050' });
  });

  it('loads all of a run or nothing: a broken file fails the run loudly, and the next run takes the same files again', async () => {
    await put('warehouse/2011/03/02/10/d.gz', stagedFile(invoice('500004', 2)));
    await put('warehouse/2011/03/02/10/e.gz', Buffer.from('{"invoice_no": "500005"'));
    await expect(load()).rejects.toThrow(/not gzip/);
    expect(await totals()).toEqual({ lines: 6, revenue: '10.050' });
    expect(await loadedKeys()).not.toContain('warehouse/2011/03/02/10/d.gz');
    await put('warehouse/2011/03/02/10/e.gz', gzipSync('{"invoice_no": "500005", "line_no": 1'));
    await expect(load()).rejects.toThrow();
    expect(await loadedKeys()).toHaveLength(3);
    await s3.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'warehouse/2011/03/02/10/e.gz' }));
    expect(await load()).toMatchObject({ loaded: 1 });
    expect(await totals()).toEqual({ lines: 8, revenue: '13.065' });
  });

  it('takes at most maxFiles a run and says how many are left', async () => {
    for (const name of ['f', 'g', 'h']) await put(`warehouse/2011/03/03/10/${name}.gz`, stagedFile(invoice(`5001${name.charCodeAt(0)}`, 1)));
    expect(await load(2)).toMatchObject({ loaded: 2, remaining: 1 });
    expect(await load(2)).toMatchObject({ loaded: 1, remaining: 0 });
    expect(await totals()).toMatchObject({ lines: 11 });
  });

  it('moves loaded files to loaded/ once their load committed; a run stopped before the move leaves them for the next', async () => {
    const keys = async (prefix: string) => (await listStagedFiles(s3.client, BUCKET, prefix)).map((file) => file.key).sort();
    const move = (files: readonly StagedFile[]) => moveToLoaded(s3.client, BUCKET, files);
    const before = await totals();
    const alreadyLoaded = await keys(STAGED_PREFIX);
    await put('warehouse/2011/03/04/10/i.gz', stagedFile(invoice('500201', 2)));
    // The run's COPY, record and MERGE commit, then the move fails (S3 unavailable): the data is in, the file stays.
    await expect(loadStagedFiles({ listStaged: () => listStagedFiles(s3.client, BUCKET, STAGED_PREFIX), session, moveLoaded: async () => Promise.reject(new Error('S3 unavailable')) })).rejects.toThrow(/S3 unavailable/);
    expect(await totals()).toEqual({ lines: (before?.lines ?? 0) + 2, revenue: expect.any(String) });
    expect(await keys(STAGED_PREFIX)).toContain('warehouse/2011/03/04/10/i.gz');
    const afterLoad = await totals();

    // The next run loads nothing again (the record decides) and moves every loaded file, earlier runs' ones included.
    const report = await loadStagedFiles({ listStaged: () => listStagedFiles(s3.client, BUCKET, STAGED_PREFIX), session, moveLoaded: move });
    expect(report).toMatchObject({ loaded: 0, moved: alreadyLoaded.length + 1 });
    expect(await totals()).toEqual(afterLoad);
    expect(await keys(STAGED_PREFIX)).toEqual([]);
    expect(await keys(LOADED_PREFIX)).toEqual([...alreadyLoaded, 'warehouse/2011/03/04/10/i.gz'].map(loadedKey).sort());
    expect(loadedKey('warehouse/2011/03/04/10/i.gz')).toBe('loaded/2011/03/04/10/i.gz');

    // A new file is loaded and moved in one run; loaded/ is never listed as staged, so nothing loads twice.
    await put('warehouse/2011/03/04/11/j.gz', stagedFile(invoice('500202', 1)));
    expect(await loadStagedFiles({ listStaged: () => listStagedFiles(s3.client, BUCKET, STAGED_PREFIX), session, moveLoaded: move })).toMatchObject({ loaded: 1, moved: 1 });
    expect(await keys(STAGED_PREFIX)).toEqual([]);
    expect(await totals()).toMatchObject({ lines: (afterLoad?.lines ?? 0) + 1 });
    expect(await loadedKeys()).toContain('warehouse/2011/03/04/11/j.gz');
  });

  it('analyses invoice_lines as autovacuum would, so the planner knows its size (the embedded warehouse has no autovacuum)', async () => {
    await put('warehouse/2011/03/05/10/k.gz', stagedFile(...Array.from({ length: 40 }, (_, i) => invoice(String(510_000 + i), 5))));
    expect(await load()).toMatchObject({ loaded: 1 });
    const [{ rows = 0 } = {}] = await warehouse.query<{ rows: number }>(`SELECT reltuples::int AS rows FROM pg_class WHERE relname = '${WAREHOUSE_TABLES.lines}'`);
    expect(Number(rows)).toBeGreaterThanOrEqual(200);
    // Statistics of the columns the merge joins on (key and version).
    const analysed = await warehouse.query<{ attname: string }>(`SELECT attname FROM pg_stats WHERE tablename = '${WAREHOUSE_TABLES.lines}' ORDER BY attname`);
    expect(analysed.map((row) => row.attname)).toEqual(expect.arrayContaining(['invoice_no', 'line_no', 'record_version']));
  });
});

describe('analyseAsAutovacuum', () => {
  it('runs ANALYZE once more than 50 rows + 10% of the table changed since the last one, as autovacuum does', async () => {
    const statements: string[] = [];
    let tableRows = 0;
    const analyse = analyseAsAutovacuum(
      {
        query: async <T>(sql: string) => {
          statements.push(sql);
          return [{ rows: tableRows }] as T[];
        },
      },
      'invoice_lines',
    );
    const analyses = () => statements.filter((sql) => sql === 'ANALYZE invoice_lines').length;
    await analyse(50);
    expect(analyses()).toBe(0);
    tableRows = 1_000;
    await analyse(950);
    expect(analyses()).toBe(1);
    tableRows = 1_150;
    await analyse(151); // more than 50 + 100: another
    expect(analyses()).toBe(2);
    await analyse(160); // 160 of 50 + 115: not yet
    expect(analyses()).toBe(2);
    await analyse(10);
    expect(analyses()).toBe(3);
  });

  it('analyses only the columns it is given, when given some', async () => {
    const statements: string[] = [];
    const analyse = analyseAsAutovacuum({ query: async <T>(sql: string) => (statements.push(sql), [{ rows: 0 }] as T[]) }, 'invoice_lines', ['invoice_no', 'line_no', 'record_version']);
    await analyse(51);
    expect(statements[0]).toBe('ANALYZE invoice_lines (invoice_no, line_no, record_version)');
  });
});
