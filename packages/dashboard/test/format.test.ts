import { formatAge, formatCount, formatGbp, formatRate, renderTable, roundDecimal, toCsv } from '../src/format';

describe('number formats', () => {
  it('formats pounds exactly, rounding half away from zero at the penny', () => {
    expect(formatGbp('9747747.934')).toBe('£9,747,747.93');
    expect(formatGbp('0.005')).toBe('£0.01');
    expect(formatGbp('-11062.06')).toBe('-£11,062.06');
    expect(formatGbp('-0.004')).toBe('£0.00');
    expect(formatGbp('999.995')).toBe('£1,000.00');
    expect(formatGbp('12')).toBe('£12.00');
    expect(formatGbp(null)).toBe('–');
    expect(() => formatGbp('1e3')).toThrow(/not a decimal/);
    expect(roundDecimal('2.345', 1)).toEqual({ negative: false, whole: '2', fraction: '3' });
  });

  it('formats counts, rates and ages', () => {
    expect(formatCount(541909)).toBe('541,909');
    expect(formatCount(-1234)).toBe('-1,234');
    expect(formatCount(12)).toBe('12');
    expect(formatRate('0.0213')).toBe('2.13 %');
    expect(formatRate('1.0000')).toBe('100.00 %');
    expect(formatRate('0.12345')).toBe('12.35 %');
    expect(formatAge(42)).toBe('42 s');
    expect(formatAge(185)).toBe('3 min 5 s');
    expect(formatAge(90_000)).toBe('1 d 1 h');
  });

  it('aligns tables and writes CSV', () => {
    expect(renderTable([{ title: 'a' }, { title: 'amount', align: 'right' }], [['x', '£1.00'], ['longer', '£1,000.00']])).toBe(
      ['a          amount', '──────  ─────────', 'x           £1.00', 'longer  £1,000.00'].join('\n'),
    );
    expect(toCsv([{ a: 'x, "y"', b: null }, { a: 'z', b: 2 }])).toBe('a,b\r\n"x, ""y""",\r\nz,2\r\n');
  });
});
