import { chunkWithin, forEachLimited } from './chunk';

describe('chunkWithin', () => {
  it('cuts by count, keeping order', () => {
    expect(chunkWithin([1, 2, 3, 4, 5], { maxCount: 2 })).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('cuts by bytes before the run would exceed them', () => {
    expect(chunkWithin(['aaa', 'bb', 'c', 'dddd'], { maxBytes: 5 }, (s) => s.length)).toEqual([['aaa', 'bb'], ['c', 'dddd']]);
  });

  it('applies both limits, whichever comes first', () => {
    const sizes = [1, 1, 1, 4, 1, 1];
    expect(chunkWithin(sizes, { maxCount: 3, maxBytes: 5 }, (n) => n)).toEqual([[1, 1, 1], [4, 1], [1]]);
  });

  it('gives an item larger than the byte limit a run of its own', () => {
    expect(chunkWithin([1, 10, 1], { maxBytes: 5 }, (n) => n)).toEqual([[1], [10], [1]]);
  });

  it('returns no run for no item and refuses limits that cannot hold one item', () => {
    expect(chunkWithin([], { maxCount: 3 })).toEqual([]);
    expect(() => chunkWithin([1], { maxCount: 0 })).toThrow(RangeError);
  });
});

describe('forEachLimited', () => {
  it('runs every item once, never more than the limit at a time', async () => {
    let inFlight = 0;
    let most = 0;
    const seen: number[] = [];
    await forEachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push(item);
      inFlight -= 1;
    });
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
  });
});
