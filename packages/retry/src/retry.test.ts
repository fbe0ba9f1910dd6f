import { backoffDelay, sendOwnedUntilAccepted, sendUntilAccepted } from './index';

describe('backoff with full jitter', () => {
  const policy = { baseDelayMs: 100, maxDelayMs: 1_000 };

  it('doubles the ceiling per retry, up to the maximum', () => {
    expect([1, 2, 3, 4, 5, 6].map((retry) => backoffDelay(retry, policy, () => 0.999999))).toEqual([99, 199, 399, 799, 999, 999]);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
  });
});

describe('sendUntilAccepted', () => {
  const waits: number[] = [];
  const hooks = { sleep: async (ms: number) => void waits.push(ms), random: () => 0.5 };
  const policy = { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 1_000 };

  it('sends again only what was not accepted, until everything is', async () => {
    const calls: number[][] = [];
    await sendUntilAccepted([1, 2, 3, 4], async (batch) => (calls.push(batch), batch.slice(1)), policy, 'test', hooks);
    expect(calls).toEqual([[1, 2, 3, 4], [2, 3, 4], [3, 4], [4]]);
    expect(waits).toEqual([5, 10, 20]);
  });

  it('throws, naming what is left, when the attempts run out', async () => {
    await expect(sendUntilAccepted([1, 2], async (batch) => batch, policy, 'DynamoDB t', hooks)).rejects.toThrow(
      'DynamoDB t: 2 item(s) still not accepted after 4 attempts',
    );
  });
});

describe('sendOwnedUntilAccepted', () => {
  const policy = { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 1_000 };
  const hooks = { sleep: async () => undefined };
  const owned = (pairs: Array<[string, number]>) => pairs.map(([owner, value]) => ({ owner, value }));
  const byTwo = <T>(items: T[]) => Array.from({ length: Math.ceil(items.length / 2) }, (_, i) => items.slice(2 * i, 2 * i + 2));

  it('fails only the owners whose items were never accepted, and stops sending an owner once it failed', async () => {
    const sent: number[][] = [];
    const failed = await sendOwnedUntilAccepted(owned([['a', 1], ['b', 2], ['b', 3], ['c', 4]]), {
      chunk: byTwo,
      send: async (call) => (sent.push(call.map((item) => item.value)), call.filter((item) => item.value === 2)),
      retry: policy,
      what: 'Firehose s',
      concurrency: 1,
      hooks,
    });
    expect([...failed.keys()]).toEqual(['b']);
    expect(failed.get('b')?.message).toBe('Firehose s: 1 item(s) still not accepted after 3 attempts');
    expect(sent).toEqual([[1, 2], [3, 4], [2], [2]]);
  });

  it('a call that throws fails its owners unless recover takes it over', async () => {
    const send = async (call: Array<{ owner: string; value: number }>) => {
      if (call.some((item) => item.value === 9)) throw new Error('refused');
      return [];
    };
    const plain = await sendOwnedUntilAccepted(owned([['a', 1], ['x', 9], ['c', 4]]), { chunk: byTwo, send, retry: policy, what: 't', concurrency: 2, hooks });
    expect([...plain.entries()].map(([owner, why]) => [owner, why.message]).sort()).toEqual([['a', 'refused'], ['x', 'refused']]);

    const recovered = await sendOwnedUntilAccepted(owned([['a', 1], ['x', 9], ['c', 4]]), {
      chunk: byTwo,
      send,
      recover: async (call) => ({ left: [], failed: new Map(call.filter((item) => item.value === 9).map((item) => [item.owner, new Error('only x')])) }),
      retry: policy,
      what: 't',
      concurrency: 2,
      hooks,
    });
    expect([...recovered.keys()]).toEqual(['x']);
  });
});
