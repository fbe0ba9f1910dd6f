import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal } from './journal';

/** The journal's file across a crash: what a reopened journal (a restarted Firehose) finds pending. */
describe('the delivery stream journal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'journal-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const record = (text: string) => ({ data: Buffer.from(text), arrivedAt: new Date(1_700_000_000_000) });
  const texts = (records: readonly { data: Buffer }[]) => records.map((r) => r.data.toString());

  it('has every record on disk once its append resolves, in the order asked, however many were asked for at once', async () => {
    const journal = openJournal(dir, 'many');
    const batches = Array.from({ length: 40 }, (_, batch) => Array.from({ length: 5 }, (_, n) => record(`${batch}-${n}`)));
    const appended = await Promise.all(batches.map((batch) => journal.append(batch)));
    expect(appended.flat().map((r) => r.journalId)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    // No close: a crash. The file alone must hold them.
    const reopened = openJournal(dir, 'many');
    expect(texts(reopened.pending)).toEqual(batches.flat().map((r) => r.data.toString()));
    await Promise.all([journal.close(), reopened.close()]);
  });

  it('keeps settle marks and emptying in order with the appends around them', async () => {
    const journal = openJournal(dir, 'ordered');
    const [first] = await Promise.all([journal.append([record('a'), record('b')])]);
    // Settling everything empties the file; the append asked for right after must survive that.
    journal.settle(first ?? []);
    const second = journal.append([record('c')]);
    const third = journal.append([record('d'), record('e')]);
    await Promise.all([second, third]);
    journal.settle((await third).slice(0, 1));
    await journal.close();
    // Emptied once (a, b gone), then c, d, e and the mark for d.
    const lines = (await readFile(join(dir, 'ordered.journal'), 'utf8')).trim().split('\n');
    expect(lines.map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual(['B 3', 'c', 'B 4', 'd', 'B 5', 'e', 'S 4']);
    expect(texts(openJournal(dir, 'ordered').pending)).toEqual(['c', 'e']);
  });

  it('acknowledges nothing it could not write, and reports a settle mark it could not write', async () => {
    const messages: string[] = [];
    const journal = openJournal(dir, 'closed', (message) => messages.push(message));
    const [one] = await Promise.all([journal.append([record('x')]), journal.append([record('y')])]);
    await journal.close();
    await expect(journal.append([record('z')])).rejects.toThrow(/closed/);
    journal.settle(one ?? []);
    await new Promise((resolve) => setImmediate(resolve));
    expect(messages).toEqual([expect.stringMatching(/journal of closed: marking 1 record\(s\) settled failed .*delivered again after a restart/)]);
    expect(texts(openJournal(dir, 'closed').pending)).toEqual(['x', 'y']);
  });

  it('keeps the bytes of a record as they are, newlines and all, and drops an entry a crash cut short', async () => {
    const binary = Buffer.from([0x0a, 0x00, 0xff, 0x0a, 0x42, 0x20, 0x0a]);
    const journal = openJournal(dir, 'bytes');
    await journal.append([{ data: binary, arrivedAt: new Date(1) }, record('{"a":1}\n{"a":2}\n')]);
    await journal.close();
    // A crash during the next append: its header and part of its bytes reached the file, its answer never went out.
    await appendFile(join(dir, 'bytes.journal'), 'B 3 1 10\nabc');
    const reopened = openJournal(dir, 'bytes');
    expect(reopened.pending.map((r) => [r.journalId, r.data])).toEqual([
      [1, binary],
      [2, Buffer.from('{"a":1}\n{"a":2}\n')],
    ]);
    // Rewritten without the torn entry, so the next record is 3 and reads back whole.
    await reopened.append([record('next')]);
    await reopened.close();
    expect(texts(openJournal(dir, 'bytes').pending)).toEqual([binary.toString(), '{"a":1}\n{"a":2}\n', 'next']);
  });

  it('reads the base64 lines of journals written before records were kept as bytes', async () => {
    await writeFile(join(dir, 'old.journal'), `A 1 5 ${Buffer.from('one').toString('base64')}\nA 2 6 ${Buffer.from('two').toString('base64')}\nS 1\n`);
    const journal = openJournal(dir, 'old');
    expect(journal.pending.map((r) => [r.journalId, r.arrivedAt.getTime(), r.data.toString()])).toEqual([[2, 6, 'two']]);
    expect((await journal.append([record('three')]))[0]?.journalId).toBe(3);
    await journal.close();
  });
});
