import { gzipSync } from 'node:zlib';
import { inspectDumpFile, unfinishedUtf8Tail } from '../src/transform';
import { tempDir } from './helpers';

// The dump's encoding and non-empty line count, read in chunks (64 KiB each from a file stream).
describe('inspectDumpFile', () => {
  let files: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => (files = await tempDir()));
  afterAll(() => files.remove());

  it('counts non-empty lines: CRLF, empty and CR-only lines, a last line without a break', async () => {
    const path = await files.write('lines.csv', 'h\r\n\r\n\nx\r\n\ry');
    expect(await inspectDumpFile(path)).toEqual({ gzip: false, lines: 3, encoding: 'utf-8' });
  });

  it('keeps a UTF-8 character cut by a chunk boundary UTF-8, and a lone latin-1 byte latin-1', async () => {
    const cut = await files.write('cut.csv', Buffer.concat([Buffer.alloc(65_535, 'a'), Buffer.from('£\n€\n', 'utf8')]));
    expect(await inspectDumpFile(cut)).toEqual({ gzip: false, lines: 2, encoding: 'utf-8' });
    const latin1 = await files.write('latin1.csv', Buffer.concat([Buffer.alloc(65_535, 'a'), Buffer.from('£\n', 'latin1')]));
    expect((await inspectDumpFile(latin1)).encoding).toBe('latin-1');
    const unfinished = await files.write('unfinished.csv', Buffer.from([0x61, 0x0a, 0xe2, 0x82]));
    expect((await inspectDumpFile(unfinished)).encoding).toBe('latin-1');
    const gzip = await files.write('cut.csv.gz', gzipSync(Buffer.concat([Buffer.alloc(200_000, 'b'), Buffer.from('\n£\n\n')])));
    expect(await inspectDumpFile(gzip)).toEqual({ gzip: true, lines: 2, encoding: 'utf-8' });
  });

  it('finds the start of a sequence the next chunk finishes', () => {
    expect(unfinishedUtf8Tail(Buffer.from('ab'))).toBe(0);
    expect(unfinishedUtf8Tail(Buffer.from('a£'))).toBe(0);
    expect(unfinishedUtf8Tail(Buffer.from([0x61, 0xc2]))).toBe(1);
    expect(unfinishedUtf8Tail(Buffer.from([0xe2, 0x82]))).toBe(2);
    expect(unfinishedUtf8Tail(Buffer.from([0xf0, 0x9f, 0x98]))).toBe(3);
    expect(unfinishedUtf8Tail(Buffer.from('😀'))).toBe(0);
  });
});
