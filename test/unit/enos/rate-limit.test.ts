import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../src/enos/rate-limit.js';
import type { Sleep } from '../../../src/enos/sleep.js';
import { manualClock } from '../../../src/util/clock.js';

/** A sleep that records each wait and moves the manual clock instead of waiting. */
function fakeTime() {
  const clock = manualClock(1_000_000);
  const waits: number[] = [];
  const sleep: Sleep = async (ms, signal) => {
    signal?.throwIfAborted();
    waits.push(ms);
    clock.advance(ms);
  };
  return { clock, waits, sleep };
}

/** Acquires `n` slots one after another and returns the clock time at which each was granted. */
async function grantTimes(limiter: RateLimiter, clock: { now(): number }, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i += 1) {
    await limiter.acquire();
    times.push(clock.now());
  }
  return times;
}

describe('RateLimiter', () => {
  it('spaces requests evenly at the configured rate', async () => {
    const { clock, sleep } = fakeTime();
    const times = await grantTimes(new RateLimiter(20, clock, sleep), clock, 5);
    expect(times.map((t) => t - 1_000_000)).toEqual([0, 50, 100, 150, 200]);
  });

  it('gives each of many concurrent callers its own slot', async () => {
    const clock = manualClock(0);
    const waits: number[] = [];
    const limiter = new RateLimiter(4, clock, async (ms) => {
      waits.push(ms);
    });
    await Promise.all(Array.from({ length: 5 }, () => limiter.acquire()));
    expect(waits).toEqual([250, 500, 750, 1000]);
  });

  it('does not let idle time build up into a burst', async () => {
    const { clock, waits, sleep } = fakeTime();
    const limiter = new RateLimiter(10, clock, sleep);
    await limiter.acquire();
    clock.advance(60_000);
    await grantTimes(limiter, clock, 3);
    expect(waits).toEqual([100, 100]);
  });

  it('never waits when unlimited (0)', async () => {
    const { clock, waits, sleep } = fakeTime();
    await grantTimes(new RateLimiter(0, clock, sleep), clock, 50);
    expect(waits).toEqual([]);
  });

  it('rejects an already aborted caller without taking a slot', async () => {
    const { clock, waits, sleep } = fakeTime();
    const limiter = new RateLimiter(10, clock, sleep);
    await limiter.acquire();
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(limiter.acquire(controller.signal)).rejects.toThrow('stop');
    await limiter.acquire();
    expect(waits).toEqual([100]);
  });

  it('gives back the slot of a caller aborted while waiting', async () => {
    const clock = manualClock(0);
    const waits: number[] = [];
    const controller = new AbortController();
    const limiter = new RateLimiter(10, clock, async (ms, signal) => {
      waits.push(ms);
      if (signal === controller.signal) {
        controller.abort(new Error('stop'));
        throw signal.reason;
      }
    });
    await limiter.acquire();
    await expect(limiter.acquire(controller.signal)).rejects.toThrow('stop');
    await limiter.acquire();
    expect(waits).toEqual([100, 100]);
  });
});
