import { mkdtemp, readFile, rm } from 'node:fs/promises';
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
    expect(lines.map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual(['A 3', 'A 4', 'A 5', 'S 4']);
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
});
