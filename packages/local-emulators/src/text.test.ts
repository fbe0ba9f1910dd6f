import { utf8Bytes, utf8Text } from './text';

describe('utf8Text', () => {
  it.each([
    ['plain ASCII JSON', '{"Records":[{"Data":"eyJhIjoxfQ=="}]}'],
    ['Latin-1 letters, which Latin-1 decoding would get wrong', 'CAFÉ CRÈME, 12 × £2.55'],
    ['characters beyond Latin-1 and surrogate pairs', 'ハート €5 🎄'],
    ['nothing', ''],
  ])('decodes %s exactly as UTF-8 does', (_what, text) => {
    const bytes = Buffer.from(text, 'utf8');
    expect(utf8Text(bytes)).toBe(text);
    expect(utf8Text(bytes)).toBe(bytes.toString('utf8'));
  });

  it('replaces bytes that are not UTF-8 as the UTF-8 decoder does', () => {
    const bytes = Buffer.from([0x61, 0xff, 0x62, 0xc3]);
    expect(utf8Text(bytes)).toBe(bytes.toString('utf8'));
  });
});

describe('utf8Bytes', () => {
  it.each([
    ['plain ASCII JSON', '{"Records":[{"data":"eyJhIjoxfQ=="}]}'],
    ['Latin-1 letters, whose Latin-1 bytes are not their UTF-8 bytes', 'CAFÉ CRÈME, 12 × £2.55'],
    // U+0100 and U+4E00 have low bytes 0x00: a check of the Latin-1 bytes alone would pass them as ASCII.
    ['characters beyond Latin-1 and surrogate pairs', 'Ā 一 ハート €5 🎄'],
    ['a lone surrogate', 'a\ud800b'],
    ['nothing', ''],
  ])('encodes %s exactly as UTF-8 does', (_what, text) => {
    expect(utf8Bytes(text).equals(Buffer.from(text, 'utf8'))).toBe(true);
  });
});
