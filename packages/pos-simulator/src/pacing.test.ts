import { fakeClock } from '../test/fake-api';
import { SpeedClock, TokenBucket } from './pacing';

describe('SpeedClock', () => {
  it('makes an hour of trading last a second at speed 3600', () => {
    const clock = fakeClock();
    const speed = new SpeedClock(3_600, clock);
    expect(speed.delayFor('2010-12-01T08:00:00')).toBe(0);
    expect(speed.delayFor('2010-12-01T09:00:00')).toBe(1_000);
    expect(speed.delayFor('2010-12-02T08:00:00')).toBe(24_000);
    // Out-of-order (earlier) invoices are due at once.
    expect(speed.delayFor('2010-11-30T08:00:00')).toBe(0);
  });
});

describe('TokenBucket', () => {
  it('lets a burst through, then keeps to the rate', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(100, 100, clock);
    await bucket.take(100);
    expect(clock.time()).toBe(0);
    await bucket.take(50);
    expect(clock.time()).toBe(500);
  });

  it('slows a take larger than the bucket instead of refusing it', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(10, 10, clock);
    await bucket.take(30);
    await bucket.take(10);
    // 30 taken from a full bucket leaves a debt of 20: the next 10 wait 3 s.
    expect(clock.time()).toBe(3_000);
  });
});
