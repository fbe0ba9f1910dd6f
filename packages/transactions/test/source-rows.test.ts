import { Readable } from 'node:stream';
import { parseSourceDate, readSourceRows, type RowResult } from '../src/files/source-rows';
import { collect, HEADER, rowsOf } from './helpers';

describe('date styles of the dataset', () => {
  it.each([
    ['2010-12-01 08:26:00', '2010-12-01T08:26:00'], // by-day
    ['12/1/2010 8:26', '2010-12-01T08:26:00'], // Kaggle data.csv
    ['11/25/11 11:02', '2011-11-25T11:02:00'], // spreadsheet m/d/yy
    ['12-09-11 12:50', '2011-12-09T12:50:00'], // spreadsheet mm-dd-yy
    ['2011-12-09T12:50:30', '2011-12-09T12:50:30'],
  ])('reads %s', (text, iso) => expect(parseSourceDate(text)).toBe(iso));

  it.each(['13/01/2011 10:00', '2/30/2011 10:00', '2011-02-29 10:00:00', '1/1/2011', '2011-01-01 25:00:00', '1.1.2011 10:00', ''])(
    'refuses %j instead of guessing',
    (text) => expect(parseSourceDate(text)).toBeUndefined(),
  );
});

describe('reading source rows keeps every value exactly', () => {
  it('reads the by-day layout (UTF-8 £, float customer ids, quoted quotes, trailing spaces)', async () => {
    const csv = [
      HEADER,
      '536367,22745,POPPY\'S PLAYHOUSE BEDROOM ,6,2010-12-01 08:34:00,2.1,13047.0,United Kingdom',
      '536477,22041,"RECORD FRAME 7"" SINGLE SIZE ",48,2010-12-01 12:27:00,2.1,16210.0,United Kingdom',
      '536381,82567,"AIRLINE LOUNGE,METAL SIGN",2,2010-12-01 09:41:00,2.1,15311.0,United Kingdom',
      '539492,gift_0001_40,Dotcomgiftshop Gift Voucher £40.00,1,2010-12-20 10:14:00,34.04,,United Kingdom',
      '536414,22139,,56,2010-12-01 11:52:00,0.0,,United Kingdom',
      'A563186,B,Adjust bad debt,1,2011-08-12 14:51:00,-11062.06,,United Kingdom',
      'C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527.0,United Kingdom',
      '',
    ].join('\n');
    const rows = await rowsOf(csv);
    expect(rows.every((r) => r.ok)).toBe(true);
    const values = rows.map((r) => (r.ok ? r.row : undefined));
    expect(values[0]).toMatchObject({ line: 2, description: "POPPY'S PLAYHOUSE BEDROOM ", customerId: '13047', unitPrice: '2.1', quantity: 6 });
    expect(values[1]?.description).toBe('RECORD FRAME 7" SINGLE SIZE ');
    expect(values[2]?.description).toBe('AIRLINE LOUNGE,METAL SIGN');
    expect(values[3]).toMatchObject({ stockCode: 'gift_0001_40', description: 'Dotcomgiftshop Gift Voucher £40.00', customerId: null });
    expect(values[4]).toMatchObject({ description: null, customerId: null, unitPrice: '0' });
    expect(values[5]).toMatchObject({ invoiceNo: 'A563186', unitPrice: '-11062.06', invoiceDate: '2011-08-12T14:51:00' });
    expect(values[6]).toMatchObject({ invoiceNo: 'C536379', quantity: -1, stockCode: 'D' });
  });

  it('reads the Kaggle layout (latin-1 £, CRLF, no final line break)', async () => {
    const csv = Buffer.from(
      [
        HEADER,
        '581217,gift_0001_10,Dotcomgiftshop Gift Voucher £10.00,1,12-08-11 09:20,8.33,,United Kingdom',
        'C581484,23843,"PAPER CRAFT , LITTLE BIRDIE",-80995,12-09-11 09:27,2.08,16446,United Kingdom',
        '578703,20869,GOLD FABRIC MIRROR,4,11/25/11 11:02,0.39,17385,United Kingdom',
        '536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom',
      ].join('\r\n'),
      'latin1',
    );
    expect(csv.includes(0xa3)).toBe(true);
    const rows = (await rowsOf(csv)).map((r) => (r.ok ? r.row : r.badRow));
    expect(rows).toEqual([
      expect.objectContaining({ description: 'Dotcomgiftshop Gift Voucher £10.00', invoiceDate: '2011-12-08T09:20:00', customerId: null }),
      expect.objectContaining({ description: 'PAPER CRAFT , LITTLE BIRDIE', quantity: -80995, invoiceDate: '2011-12-09T09:27:00', customerId: '16446' }),
      expect.objectContaining({ invoiceDate: '2011-11-25T11:02:00', unitPrice: '0.39' }),
      expect.objectContaining({ invoiceDate: '2010-12-01T08:26:00', stockCode: '85123A', country: 'United Kingdom' }),
    ]);
  });

  it('reads gzip input', async () => {
    const { gzipSync } = await import('node:zlib');
    const rows = await rowsOf(gzipSync(`${HEADER}\n536365,85123A,X,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n`));
    expect(rows).toEqual([expect.objectContaining({ ok: true, row: expect.objectContaining({ invoiceNo: '536365', unitPrice: '2.55' }) })]);
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
      '536369,21756,"STRAY "QUOTE,3,2010-12-01 08:35:00,5.95,13047.0,United Kingdom',
      '536370,22728,STILL READ AFTER,24,2010-12-01 08:45:00,3.75,12583.0,France',
      '536371,22728,"UNCLOSED QUOTE,24,2010-12-01 08:45:00,3.75,12583.0,France',
    ].join('\n');
    const rows = await rowsOf(csv);
    const bad = rows.flatMap((r) => (r.ok ? [] : [r.badRow]));
    const good = rows.flatMap((r) => (r.ok ? [r.row.description] : []));
    // A stray quote inside a field is kept as written; an unclosed one makes the rest of the file one bad row.
    expect(good).toEqual(['GOOD', '"STRAY "QUOTE', 'STILL READ AFTER']);
    expect(bad.map((b) => [b.line, b.field])).toEqual([
      [3, 'Quantity'],
      [4, 'InvoiceDate'],
      [5, 'UnitPrice'],
      [6, '(row)'],
      [7, 'InvoiceNo'],
      [8, 'CustomerID'],
      [11, '(row)'],
    ]);
    for (const b of bad) {
      expect(b.file).toBe('test.csv');
      expect(b.reason.length).toBeGreaterThan(5);
    }
    expect(bad[0]?.reason).toContain('"six"');
    expect(bad[3]?.reason).toBe('expected 8 fields, found 6');
    expect(bad[6]?.reason).toMatch(/Quote Not Closed/);
    expect(bad[6]?.raw).toContain('"UNCLOSED QUOTE');
  });

  it('refuses a file that is not an invoice CSV', async () => {
    await expect(rowsOf('a,b,c\n1,2,3\n')).rejects.toThrow(/not an invoice CSV/);
  });
});

describe('a row with a quote left open is reported with its text exactly as written', () => {
  const good = (n: number, description = `ROW ${n}`) => `5364${String(n).padStart(2, '0')},85123A,${description},6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom`;
  const unclosed = '536371,22728,"UNCLOSED QUOTE £5,24,2010-12-01 08:45:00,3.75,12583.0,France\nNEXT LINE,1';
  const bytesIn = (bytes: Buffer, size: number) => Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
  const read = (chunks: Buffer[]) => collect(readSourceRows(Readable.from(chunks), { file: 'test.csv' }));
  /** A reader that does I/O between rows (as the replay does) lets the parser run ahead to the end of the file. */
  const readSlowly = async (chunks: Buffer[]) => {
    const results: RowResult[] = [];
    for await (const result of readSourceRows(Readable.from(chunks), { file: 'test.csv' })) {
      results.push(result);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return results;
  };

  it.each([
    ['one chunk', 1 << 20, read],
    ['7-byte chunks', 7, read],
    ['1-byte chunks', 1, read],
    ['one chunk, by a slow reader', 1 << 20, readSlowly],
    ['7-byte chunks, by a slow reader', 7, readSlowly],
  ])('after a quoted multi-line field and 40 rows, read in %s', async (_name, size, reader) => {
    // A quoted description over three lines: the rows after it end two lines further down.
    const rows = [good(0, '"FIRST LINE\nSECOND, LINE\nTHIRD"'), ...Array.from({ length: 40 }, (_, i) => good(i + 1))];
    const csv = Buffer.from([HEADER, ...rows, unclosed].join('\n'), 'latin1');
    const results = await reader(bytesIn(csv, size));

    expect(results).toHaveLength(42);
    expect(results.slice(0, 41).map((r) => (r.ok ? r.row.line : `bad ${r.badRow.reason}`))).toEqual(Array.from({ length: 41 }, (_, i) => (i === 0 ? 4 : i + 4)));
    expect(results[0]).toMatchObject({ ok: true, row: { description: 'FIRST LINE\nSECOND, LINE\nTHIRD' } });
    // The bad row comes last: the text from the end of the last row read to the end of the file, latin-1 £ included.
    expect(results[41]).toEqual({
      ok: false,
      badRow: { file: 'test.csv', line: 46, field: '(row)', reason: 'Quote Not Closed: the parsing is finished with an opening quote at line 46', raw: unclosed },
    });
  });

  it('spanning many chunks of a gzip file (a 200 kB row, read as UTF-8 after a byte order mark)', async () => {
    const { gzipSync } = await import('node:zlib');
    const long = `536372,22728,"${'LONG £ TEXT, '.repeat(16_000)}`;
    const csv = Buffer.from(`\ufeff${[HEADER, good(1), good(2), long].join('\n')}`, 'utf8');
    expect(csv.length).toBeGreaterThan(200_000);
    const results = await read(bytesIn(gzipSync(csv), 4096));

    expect(results.map((r) => r.ok)).toEqual([true, true, false]);
    expect(results[2]).toMatchObject({ ok: false, badRow: { line: 4, field: '(row)', raw: long } });
  });

  it('keeps the blank lines before it as written (CRLF)', async () => {
    const csv = [HEADER, good(1), '', '', '536373,X,"OPEN', 'NEXT'].join('\r\n');
    const results = await rowsOf(csv);
    expect(results[1]).toMatchObject({ ok: false, badRow: { field: '(row)', raw: '\r\n\r\n536373,X,"OPEN\r\nNEXT' } });
  });
});
