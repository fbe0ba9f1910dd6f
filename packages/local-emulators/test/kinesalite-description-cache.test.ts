import { cacheStreamDescriptions } from 'kinesalite/db';

/**
 * kinesalite keeps each stream's description (and in it the counter its sequence numbers come from) in LevelDB, and
 * our patch keeps a copy in memory. LevelDB runs gets and puts on different threads: a get asked for while a put is
 * being written can read the value from before the put and answer after the put has. Kept, that stale copy gave
 * the next PutRecords sequence numbers that were already given, and records with the same key overwrote each other
 * (81 accepted invoices lost in a whole-dataset run with four shards). These tests drive that order by hand.
 */
describe('kinesalite stream descriptions kept in memory', () => {
  type Pending = () => void;

  /** A LevelDB stand-in whose calls answer only when the test says so, reading the value when each call runs. */
  function manualStore(initial: Record<string, unknown>) {
    const values = new Map(Object.entries(initial).map(([key, value]) => [key, JSON.stringify(value)]));
    const pending: Pending[] = [];
    const reads = { count: 0 };
    const metaDb = {
      get(key: string, callback: (error: Error | null, value?: unknown) => void) {
        reads.count += 1;
        const seen = values.get(key); // the read's snapshot: taken when the get runs
        pending.push(() => (seen === undefined ? callback(Object.assign(new Error('NotFound'), { name: 'NotFoundError' })) : callback(null, JSON.parse(seen))));
      },
      put(key: string, value: unknown, callback: (error: Error | null) => void) {
        pending.push(() => {
          values.set(key, JSON.stringify(value)); // written when the test lets the put run
          callback(null);
        });
      },
      del(key: string, callback: (error: Error | null) => void) {
        pending.push(() => {
          values.delete(key);
          callback(null);
        });
      },
    };
    return { metaDb, pending, reads, value: (key: string) => JSON.parse(values.get(key) ?? 'null') as unknown };
  }

  const read = (metaDb: { get: (key: string, callback: (error: Error | null, value?: unknown) => void) => void }, key: string) =>
    new Promise<unknown>((resolve, reject) => metaDb.get(key, (error, value) => (error ? reject(error) : resolve(value))));

  it('a get that ran before a put was written but answered after it is not kept: the next get sees the put', async () => {
    const { metaDb, pending, value } = manualStore({ sales: { _seqIx: [5] } });
    cacheStreamDescriptions(metaDb);

    let putDone = false;
    metaDb.put('sales', { _seqIx: [9] }, () => (putDone = true));
    const stale = read(metaDb, 'sales'); // runs now, before the put is written: it reads _seqIx 5
    const [writePut, answerGet] = pending.splice(0);
    writePut?.(); // the put is written and answers first...
    answerGet?.(); // ...the get answers with what it read before
    expect(putDone).toBe(true);
    expect(await stale).toEqual({ _seqIx: [5] });
    expect(value('sales')).toEqual({ _seqIx: [9] });

    const next = read(metaDb, 'sales');
    pending.splice(0).forEach((run) => run());
    expect(await next).toEqual({ _seqIx: [9] });
  });

  it('a quiet read is kept (the next get is answered from memory, each with its own object); a put replaces it; a delete drops it', async () => {
    const { metaDb, pending, reads } = manualStore({ sales: { _seqIx: [1] } });
    cacheStreamDescriptions(metaDb);
    const first = read(metaDb, 'sales');
    pending.splice(0).forEach((run) => run());
    expect(await first).toEqual({ _seqIx: [1] });

    const [a, b] = await Promise.all([read(metaDb, 'sales'), read(metaDb, 'sales')]);
    expect(reads.count).toBe(1);
    expect(a).toEqual({ _seqIx: [1] });
    expect(a).not.toBe(b);

    await new Promise<void>((resolve) => {
      metaDb.put('sales', { _seqIx: [2] }, () => resolve());
      pending.splice(0).forEach((run) => run());
    });
    expect(await read(metaDb, 'sales')).toEqual({ _seqIx: [2] });
    expect(reads.count).toBe(1);

    await new Promise<void>((resolve) => {
      metaDb.del('sales', () => resolve());
      pending.splice(0).forEach((run) => run());
    });
    const gone = read(metaDb, 'sales');
    pending.splice(0).forEach((run) => run());
    await expect(gone).rejects.toThrow('NotFound');
  });

  it('of two puts in progress, neither is kept until the last has been written', async () => {
    const { metaDb, pending } = manualStore({ sales: { _seqIx: [1] } });
    cacheStreamDescriptions(metaDb);
    metaDb.put('sales', { _seqIx: [2] }, () => undefined);
    metaDb.put('sales', { _seqIx: [3] }, () => undefined);
    const [older, newer] = pending.splice(0);
    newer?.(); // written out of order: the older put lands last in the store
    older?.();
    const next = read(metaDb, 'sales');
    pending.splice(0).forEach((run) => run());
    expect(await next).toEqual({ _seqIx: [2] }); // what the store holds, not a copy of either put
  });
});
