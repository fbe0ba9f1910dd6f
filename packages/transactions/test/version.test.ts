import { recordVersion } from '../src/version';

describe('recordVersion', () => {
  it('orders Kinesis sequence numbers as integers, compared as text', () => {
    const small = '49590338271490256608559692538361571095921575989136588898';
    const larger = '495903382714902566085596925383615710959215759891365888990';
    expect(recordVersion(small) < recordVersion(larger)).toBe(true);
    expect('9' < '10').toBe(false); // why the padding: plain text comparison gets this wrong
    expect(recordVersion('9') < recordVersion('10')).toBe(true);
    expect(recordVersion('0009')).toBe(recordVersion('9'));
  });

  it('refuses what is not a sequence number', () => {
    expect(() => recordVersion('12a')).toThrow(RangeError);
    expect(() => recordVersion('1'.repeat(65))).toThrow(RangeError);
  });
});
