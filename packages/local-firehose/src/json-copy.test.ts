import { parseJsonObjects, rowForColumns } from './json-copy';

describe("COPY … FORMAT AS JSON 'auto'", () => {
  it('reads concatenated objects, as Firehose writes them with no delimiter', () => {
    expect(parseJsonObjects('{"a":1}{"a":2}  {"a":3}')).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
  });

  it('reads newline-delimited objects, with CRLF, a BOM and a trailing newline', () => {
    expect(parseJsonObjects('\ufeff{"a":"x"}\r\n{"a":"y"}\n')).toEqual([{ a: 'x' }, { a: 'y' }]);
  });

  it('is not fooled by braces, quotes and escapes inside strings', () => {
    const text = '{"d":"} {\\"quoted\\" \\\\","n":{"x":[1,"]"]}}{"d":"£ ok "}';
    expect(parseJsonObjects(text)).toEqual([{ d: '} {"quoted" \\', n: { x: [1, ']'] } }, { d: '£ ok ' }]);
  });

  it('reads a quote after an even run of backslashes as the end of a string, and JavaScript whitespace between objects', () => {
    const text = '{"d":"a\\\\","q":"\\\\\\"","n":1.0}\u00a0\u2028\t{"k\\"ey":2.50,"v":"}"}';
    expect(parseJsonObjects(text)).toEqual([{ d: 'a\\', q: '\\"', n: '1.0' }, { 'k"ey': '2.50', v: '}' }]);
  });

  it('keeps numbers exact: a literal that a double would change is kept as text', () => {
    const [row] = parseJsonObjects('{"price":2.550,"qty":6,"big":12345678901234567890,"neg":-0.5}');
    expect(row).toEqual({ price: '2.550', qty: 6, big: '12345678901234567890', neg: -0.5 });
  });

  it('reads an object without a top-level number as JSON.parse does, and the next one with a number exactly', () => {
    const text = '{"s":"2.550","n":{"p":2.550},"l":[1.10]}{"s":"x","p":2.550}';
    expect(parseJsonObjects(text)).toEqual([{ s: '2.550', n: { p: 2.55 }, l: [1.1] }, { s: 'x', p: '2.550' }]);
  });

  // Newline-delimited text (the stream processor's staged rows) is read a line at a time, objects run together by the
  // scanner, and an object whose numbers are all written as JavaScript writes them skips the literal-by-literal reading.
  // Each reading must give these rows: look-alikes of numbers inside strings and inexact literals included.
  const rows: Array<[string, Record<string, unknown>]> = [
    [
      '{"invoice_no":"536365","line_no":1,"quantity":6,"unit_price":"2.55","description":"WHITE HANGING HEART T-LIGHT HOLDER"}',
      { invoice_no: '536365', line_no: 1, quantity: 6, unit_price: '2.55', description: 'WHITE HANGING HEART T-LIGHT HOLDER' },
    ],
    ['{"d":"x\\":5.0","q":6}', { d: 'x":5.0', q: 6 }],
    ['{"d":"a\\":7","k\\":1":2.0}', { d: 'a":7', 'k":1': '2.0' }],
    ['{"q":6.0,"r":-0,"s":1e3,"t":12345678901234567890,"u":-5,"v":0.1}', { q: '6.0', r: '-0', s: '1e3', t: '12345678901234567890', u: -5, v: 0.1 }],
    ['{"n":{"p":2.550},"l":[1.10],"m":3}', { n: { p: 2.55 }, l: [1.1], m: 3 }],
    ['{"q" : 6 , "p" :\t2.50 }', { q: 6, p: '2.50' }],
    ['{"e":"","z":null,"b":true,"c":"6.0"}', { e: '', z: null, b: true, c: '6.0' }],
  ];
  it.each(rows)('reads %s exactly, a line at a time and run together', (object, row) => {
    expect(parseJsonObjects(`${object}\n${object}\r\n\n`)).toEqual([row, row]);
    expect(parseJsonObjects(`${object}${object}`)).toEqual([row, row]);
  });

  it('keeps inexact numbers of newline-delimited rows as text, and reads a number-like text inside a string as text', () => {
    expect(parseJsonObjects('{"q":6.0,"p":"2.55"}\n{"d":"x\\":5.0","q":6}\n')).toEqual([
      { q: '6.0', p: '2.55' },
      { d: 'x":5.0', q: 6 },
    ]);
  });

  it('reads an object written across lines, and objects run together on one line, among newline-delimited ones', () => {
    expect(parseJsonObjects('{"a":1}\n{\n  "b": 2.50\n}\n{"c":3}{"d":4}\n')).toEqual([{ a: 1 }, { b: '2.50' }, { c: 3 }, { d: 4 }]);
  });

  it.each([
    ['a top-level array', '[{"a":1}]'],
    ['a truncated object', '{"a":1}{"a":'],
    ['a bad value', '{"a":tru}'],
    ['text between objects', '{"a":1},{"a":2}'],
    ['a bad line among good ones', '{"a":1}\n{"a":tru}\n{"a":2}\n'],
  ])('fails on %s', (_case, text) => {
    expect(() => parseJsonObjects(text)).toThrow(SyntaxError);
  });

  it('maps keys to columns exactly or ignoring case; missing keys are NULL, nested values JSON text', () => {
    const object = { invoice_no: '1', Line_No: 2, extra: true, tags: ['a'] };
    expect(rowForColumns(object, ['invoice_no', 'line_no', 'tags', 'constructor'], false)).toEqual({
      invoice_no: '1',
      line_no: null,
      tags: '["a"]',
      constructor: null,
    });
    expect(rowForColumns(object, ['invoice_no', 'line_no'], true)).toEqual({ invoice_no: '1', line_no: 2 });
  });
});
