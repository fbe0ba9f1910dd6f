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

  it.each([
    ['a top-level array', '[{"a":1}]'],
    ['a truncated object', '{"a":1}{"a":'],
    ['a bad value', '{"a":tru}'],
    ['text between objects', '{"a":1},{"a":2}'],
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
