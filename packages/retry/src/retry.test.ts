import { backoffDelay, sendUntilAccepted } from './index';

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
