import { sleep } from '@invoice-pipeline/retry';

/** Time, injectable so that pacing can be tested without waiting. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep,
};

/**
 * A token bucket: at most `ratePerSecond` units on average, bursts up to `burst`. A take larger than the bucket
 * is let through once the bucket is full and leaves it in debt, so big requests are slowed, never refused.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly clock: Clock = systemClock,
  ) {
    if (!(ratePerSecond > 0) || !(burst > 0)) throw new RangeError('a rate limit must be positive');
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Resolves when `units` may go; callers are served in order. */
  take(units: number): Promise<void> {
    const turn = this.queue.then(() => this.wait(units));
    this.queue = turn;
    return turn;
  }

  private async wait(units: number): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
      this.last = now;
      const needed = Math.min(units, this.burst);
      if (this.tokens >= needed) {
        this.tokens -= units;
        return;
      }
      await this.clock.sleep(((needed - this.tokens) / this.ratePerSecond) * 1000);
    }
  }
}

/** Local "YYYY-MM-DDTHH:mm:ss" as milliseconds, for distances between invoice times (the zone does not matter). */
function localTimeMs(localDateTime: string): number {
  return Date.parse(`${localDateTime}Z`);
}

/**
 * Replays source time at `speed` times real time: the first invoice is due at once, an invoice one hour of trading
 * later is due 1 s later at speed 3600. Invoices earlier than the latest one seen are due at once.
 */
export class SpeedClock {
  private start: { wall: number; source: number } | undefined;

  constructor(
    private readonly speed: number,
    private readonly clock: Clock = systemClock,
  ) {
    if (!(speed > 0)) throw new RangeError('speed must be positive');
  }

  /** Milliseconds to wait until an invoice of this local time is due (0 if it is due). */
  delayFor(localDateTime: string): number {
    const source = localTimeMs(localDateTime);
    if (this.start === undefined) this.start = { wall: this.clock.now(), source };
    const due = this.start.wall + (source - this.start.source) / this.speed;
    return Math.max(0, due - this.clock.now());
  }
}
