import { gzipSync } from 'node:zlib';
import { TEXT_MAX_BYTES, formatMillisFixed, parseMillis } from '@invoice-pipeline/transactions';
import { BUNDLED_DATASET, BUNDLED_SAMPLES, summariseSource } from '@invoice-pipeline/transactions/files';
import { comparable, comparableReference, HEADER, sorted, referenceOf, tempDir, transformFiles } from './helpers';

/**
 * Golden cases: the transactions package's own cases, run through glue/transform.sql on DuckDB. The transform must
 * give what packages/transactions gives (parseSourceRow + groupInvoices + normaliseInvoice).
 */
describe('glue/transform.sql on DuckDB agrees with packages/transactions', () => {
  let files: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => (files = await tempDir()));
  afterAll(() => files.remove());

  async function agree(name: string, content: string | Buffer) {
    const path = await files.write(name, content);
    const [ours, reference] = await Promise.all([transformFiles([path]), referenceOf(path)]);
    expect(sorted(ours.lines.map((l) => comparable(l)))).toEqual(sorted(reference.lines.map(comparableReference)));
    expect(ours.badRows.map(({ file, line, field }) => ({ file, line, field }))).toEqual(reference.badRows.map(({ file, line, field }) => ({ file, line, field })));
    return ours;
  }

  it('reads the by-day layout (UTF-8 £, float customer ids, quoted quotes, trailing spaces, C and A invoices)', async () => {
    const csv = [
      HEADER,
      "536367,22745,POPPY'S PLAYHOUSE BEDROOM ,6,2010-12-01 08:34:00,2.1,13047.0,United Kingdom",
      '536477,22041,"RECORD FRAME 7"" SINGLE SIZE ",48,2010-12-01 12:27:00,2.1,16210.0,United Kingdom',
      '536381,82567,"AIRLINE LOUNGE,METAL SIGN",2,2010-12-01 09:41:00,2.1,15311.0,United Kingdom',
      '539492,gift_0001_40,Dotcomgiftshop Gift Voucher £40.00,1,2010-12-20 10:14:00,34.04,,United Kingdom',
      '536414,22139,,56,2010-12-01 11:52:00,0.0,,United Kingdom',
      'A563186,B,Adjust bad debt,1,2011-08-12 14:51:00,-11062.06,,United Kingdom',
      'C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527.0,United Kingdom',
      '536367,POST,POSTAGE,+3,2010-12-01 08:35:00,18.0000,13047.0,United Kingdom',
      '',
    ].join('\n');
    const { lines } = await agree('by-day.csv', csv);
    expect(lines.map((l) => [l.invoice_no, l.line_in_file, l.invoice_type, l.description, l.customer_id, l.line_total])).toEqual([
      ['536367', 1, 'sale', "POPPY'S PLAYHOUSE BEDROOM ", '13047', '12.600'],
      ['536477', 1, 'sale', 'RECORD FRAME 7" SINGLE SIZE ', '16210', '100.800'],
      ['536381', 1, 'sale', 'AIRLINE LOUNGE,METAL SIGN', '15311', '4.200'],
      ['539492', 1, 'sale', 'Dotcomgiftshop Gift Voucher £40.00', null, '34.040'],
      ['536414', 1, 'sale', null, null, '0.000'],
      ['A563186', 1, 'adjustment', 'Adjust bad debt', null, '-11062.060'],
      ['C536379', 1, 'cancellation', 'Discount', '14527', '-27.500'],
      ['536367', 2, 'sale', 'POSTAGE', '13047', '54.000'],
    ]);
  });

  it('reads the Kaggle layout (latin-1 £, CRLF, US and spreadsheet dates, no final line break)', async () => {
    const csv = Buffer.from(
      [
        HEADER,
        '581217,gift_0001_10,Dotcomgiftshop Gift Voucher £10.00,1,12-08-11 09:20,8.33,,United Kingdom',
        'C581484,23843,"PAPER CRAFT , LITTLE BIRDIE",-80995,12-09-11 09:27,2.08,16446,United Kingdom',
        '578703,20869,GOLD FABRIC MIRROR,4,11/25/11 11:02,0.39,17385,United Kingdom',
        '536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom',
        '536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:27,3.39,17850,United Kingdom',
      ].join('\r\n'),
      'latin1',
    );
    const { lines } = await agree('kaggle.csv', csv);
    expect(lines.map((l) => [l.description, l.invoice_date, l.line_in_file])).toEqual([
      ['Dotcomgiftshop Gift Voucher £10.00', '2011-12-08T09:20:00', 1],
      ['PAPER CRAFT , LITTLE BIRDIE', '2011-12-09T09:27:00', 1],
      ['GOLD FABRIC MIRROR', '2011-11-25T11:02:00', 1],
      ['WHITE HANGING HEART T-LIGHT HOLDER', '2010-12-01T08:26:00', 1],
      ['WHITE METAL LANTERN', '2010-12-01T08:27:00', 2],
    ]);
    expect(lines[1]?.line_total).toBe('-168469.600');
  });

  it('reads gzip by its magic bytes, whatever the name', async () => {
    const { lines } = await agree('dump.csv', gzipSync(`${HEADER}\n536365,85123A,X,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n`));
    expect(lines).toHaveLength(1);
  });

  it('refuses dates it would have to guess and parses every style the reader does', async () => {
    const dates = ['2010-12-01 08:26:00', '12/1/2010 8:26', '11/25/11 11:02', '12-09-11 12:50', '2011-12-09T12:50:30', '13/01/2011 10:00', '2/30/2011 10:00', '2011-02-29 10:00:00', '1/1/2011', '2011-01-01 25:00:00', '1.1.2011 10:00', '11-9-2011 10:00'];
    const csv = [HEADER, ...dates.map((date, index) => `${536400 + index},85123A,X,6,${date},2.55,17850.0,United Kingdom`)].join('\n');
    const { lines, badRows } = await agree('dates.csv', csv);
    expect(lines.map((l) => l.invoice_date)).toEqual(['2010-12-01T08:26:00', '2010-12-01T08:26:00', '2011-11-25T11:02:00', '2011-12-09T12:50:00', '2011-12-09T12:50:30']);
    expect(badRows.map((b) => b.field)).toEqual(Array(7).fill('InvoiceDate'));
    expect(badRows[0]?.reason).toBe('not a date in a known style: "13/01/2011 10:00"');
  });

  it('turns each broken row into a bad row with file, line, field and reason, and keeps reading', async () => {
    const csv = [
      HEADER,
      '536365,85123A,GOOD,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom',
      '536366,22633,BAD QTY,six,2010-12-01 08:28:00,1.85,17850.0,United Kingdom',
      '536366,22632,BAD DATE,6,2010-13-01 08:28:00,1.85,17850.0,United Kingdom',
      '536367,84879,BAD PRICE,32,2010-12-01 08:34:00,1.6900000000000002,13047.0,United Kingdom',
      '536367,22745,SHORT ROW,6,2010-12-01 08:34:00,2.1',
      'X536368,22960,BAD NUMBER,6,2010-12-01 08:34:00,4.25,13047.0,United Kingdom',
      '536368,22913,BAD CUSTOMER,3,2010-12-01 08:34:00,4.95,13047.5,United Kingdom',
      '536368,,NO STOCK CODE,3,2010-12-01 08:34:00,4.95,13047,United Kingdom',
      '536370,22728,STILL READ AFTER,24,2010-12-01 08:45:00,3.75,12583.0,France',
      '536370,22727,OTHER COUNTRY,24,2010-12-01 08:45:00,3.75,12583.0,Spain',
      '536370,22726,NUMBERED AFTER IT,24,2010-12-01 08:45:00,3.75,12583.0,France',
      '536371,22728,"UNCLOSED QUOTE,24,2010-12-01 08:45:00,3.75,12583.0,France',
      '536372,22728,SWALLOWED,24,2010-12-01 08:45:00,3.75,12583.0,France',
    ].join('\n');
    const ours = await agree('broken.csv', csv);
    expect(ours.lines.map((l) => [l.description, l.line_in_file])).toEqual([
      ['GOOD', 1],
      ['STILL READ AFTER', 1],
      ['NUMBERED AFTER IT', 2],
    ]);
    expect(ours.badRows.map((b) => [b.line, b.field, b.reason])).toEqual([
      [3, 'Quantity', 'not a whole number: "six"'],
      [4, 'InvoiceDate', 'not a date in a known style: "2010-13-01 08:28:00"'],
      [5, 'UnitPrice', 'not an exact decimal with at most 3 decimals: "1.6900000000000002"'],
      [6, '(row)', 'expected 8 fields, found 6'],
      [7, 'InvoiceNo', 'not an invoice number: "X536368"'],
      [8, 'CustomerID', 'not a customer id: "13047.5"'],
      [9, 'StockCode', 'empty'],
      [11, 'CustomerID', 'customer/country differ from line 1 of invoice 536370 (line 10)'],
      [14, '(row)', expect.stringMatching(/^unreadable CSV: Quote Not Closed/)],
    ]);
    expect(ours.badRows.every((b) => b.file === 'broken.csv')).toBe(true);
    expect(ours.badRows[3]?.raw).toBe('536367,22745,SHORT ROW,6,2010-12-01 08:34:00,2.1');
  });

  it('refuses a stray quote inside a field (the reader keeps it as written; Spark and DuckDB would each alter it)', async () => {
    const path = await files.write('stray.csv', [HEADER, '536369,21756,"STRAY "QUOTE,3,2010-12-01 08:35:00,5.95,13047.0,United Kingdom', '536370,22728,AFTER,24,2010-12-01 08:45:00,3.75,12583.0,France'].join('\n'));
    const ours = await transformFiles([path]);
    expect(ours.lines.map((l) => l.description)).toEqual(['AFTER']);
    expect(ours.badRows).toEqual([
      { file: 'stray.csv', line: 2, field: '(row)', reason: expect.stringMatching(/^unreadable CSV: .*quote/), raw: expect.stringContaining('"STRAY "QUOTE') },
    ]);
  });

  it('rejects a whole invoice over the invoice limits, as groupInvoices does', async () => {
    const long = 'X'.repeat(TEXT_MAX_BYTES.description + 1);
    const csv = [HEADER, `536365,85123A,${long},6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom`, '536365,85124,OK,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom', '536366,85124,OK,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom'].join('\n');
    const ours = await agree('limits.csv', csv);
    expect(ours.badRows.map((b) => [b.line, b.field])).toEqual([
      [2, '(invoice)'],
      [3, '(invoice)'],
    ]);
  });

  it.each([
    ['the Kaggle data.csv head sample', BUNDLED_SAMPLES.kaggleHead],
    ['the spreadsheet-rewritten tail sample (.csv.gz)', BUNDLED_SAMPLES.spreadsheetTail],
  ])('gives the reader\'s lines, value for value, on %s', async (_name, path) => {
    const [ours, reference] = await Promise.all([transformFiles([path]), referenceOf(path)]);
    expect(reference.lines.length).toBeGreaterThan(1000);
    expect(ours.badRows).toEqual(reference.badRows);
    expect(sorted(ours.lines.map((l) => comparable(l)))).toEqual(sorted(reference.lines.map(comparableReference)));
  }, 120_000);
});

describe('glue/transform.sql on the whole bundled dataset', () => {
  it('gives 541,909 lines, no bad row and the exact revenue the transactions reader computes', async () => {
    const [ours, reference] = await Promise.all([transformFiles([BUNDLED_DATASET]).then((r) => r.summaries), summariseSource(BUNDLED_DATASET)]);
    expect(reference.totals.lines).toBe(541_909);
    expect(reference.totals.revenue).toBe('9747747.934');
    expect(ours).toEqual([
      {
        file: 'online-retail.csv.gz',
        rowsRead: 541_909,
        linesAccepted: reference.totals.lines,
        rowsRejected: 0,
        invoices: reference.totals.invoices,
        revenue: formatMillisFixed(parseMillis(reference.totals.revenue) ?? 0n),
      },
    ]);
  }, 300_000);
});
