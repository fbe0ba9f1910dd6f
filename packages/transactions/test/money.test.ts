import { canonicalDecimal, formatMillis, formatMillisFixed, lineTotalMillis, parseMillis, sumDecimals } from '../src/money';

describe('exact money', () => {
  it.each([
    ['2.55', 2550n],
    ['18.0', 18000n],
    ['18', 18000n],
    ['0.001', 1n],
    ['-11062.06', -11062060n],
    ['+1.5', 1500n],
    ['38970.000', 38970000n],
  ])('parses %s', (text, millis) => expect(parseMillis(text)).toBe(millis));

  it('parses any number of whole digits exactly, on both sides of where a double stops being exact', () => {
    for (const whole of ['999999999999', '9007199254740', '123456789012345678901234567890', '000000000000000001']) {
      for (const fraction of ['', '.5', '.05', '.999', '.0010']) {
        const expected = BigInt(whole) * 1000n + BigInt((fraction.slice(1) + '000').slice(0, 3));
        expect(parseMillis(`${whole}${fraction}`)).toBe(expected);
        expect(parseMillis(`-${whole}${fraction}`)).toBe(-expected);
      }
    }
  });

  it.each(['', '1.2345', '1e3', '1,000.00', 'abc', '.5', '1.', ' 1', 'NaN'])('rejects %j', (text) => expect(parseMillis(text)).toBeUndefined());

  it('formats the shortest exact form', () => {
    expect(formatMillis(2550n)).toBe('2.55');
    expect(formatMillis(18000n)).toBe('18');
    expect(formatMillis(-5n)).toBe('-0.005');
    expect(formatMillis(0n)).toBe('0');
    expect(formatMillisFixed(2550n)).toBe('2.550');
    expect(formatMillisFixed(-5n)).toBe('-0.005');
    expect(canonicalDecimal('-0.0')).toBe('0');
  });

  it('multiplies without float error where a float would drift', () => {
    expect(0.1 * 3).not.toBe(0.3);
    expect(formatMillis(lineTotalMillis(3, '0.1'))).toBe('0.3');
    expect(formatMillis(lineTotalMillis(-80995, '2.08'))).toBe('-168469.6');
    expect(formatMillis(lineTotalMillis(1_000_000_000, '38970.001'))).toBe('38970001000000');
  });

  it('sums a million small amounts exactly', () => {
    expect(sumDecimals(Array.from({ length: 1_000_000 }, () => '0.001'))).toBe('1000');
    let float = 0;
    for (let i = 0; i < 1_000_000; i += 1) float += 0.001;
    expect(float).not.toBe(1000);
  });

  it('refuses a non-decimal in a total', () => {
    expect(() => sumDecimals(['1', 'x'])).toThrow(RangeError);
    expect(() => lineTotalMillis(1.5, '1')).toThrow(RangeError);
  });
});
