import { describe, expect, it } from 'vitest';
import { apiFailure } from '../../../src/enos/failure.js';
import type { TokenGrant } from '../../../src/enos/parse.js';
import { TOKEN_PATH, TokenProvider, tokenRequest } from '../../../src/enos/token.js';
import { tokenEncryption } from '../../../src/enos/signature.js';
import { manualClock } from '../../../src/util/clock.js';
import { Secret } from '../../../src/util/secret.js';

const HOUR_S = 3600;

/** A grant source whose answers the test releases by hand. */
function grants() {
  const pending: { resolve(grant: TokenGrant): void; reject(error: unknown): void; signal: AbortSignal }[] = [];
  let count = 0;
  const fetch = (signal: AbortSignal): Promise<TokenGrant> =>
    new Promise<TokenGrant>((resolve, reject) => {
      count += 1;
      pending.push({ resolve, reject, signal });
    });
  const answer = (accessToken: string, expireSeconds = 2 * HOUR_S): void => {
    pending.shift()?.resolve({ accessToken, expireSeconds });
  };
  const fail = (error: unknown): void => {
    pending.shift()?.reject(error);
  };
  return { fetch, answer, fail, pending, fetches: () => count };
}

describe('TokenProvider', () => {
  it('fetches once and serves the cached token until renewal is due', async () => {
    const clock = manualClock(0);
    const source = grants();
    const provider = new TokenProvider(source.fetch, clock);
    const first = provider.get();
    source.answer('t1');
    expect(await first).toBe('t1');
    clock.advance(HOUR_S * 1000);
    expect(await provider.get()).toBe('t1');
    expect(source.fetches()).toBe(1);
  });

  it.each([
    { name: '2 h token: 5 min ahead', expire: 2 * HOUR_S, cachedUntilMs: 2 * HOUR_S * 1000 - 300_000 },
    { name: '10 min token: 10% ahead', expire: 600, cachedUntilMs: 540_000 },
  ])('renews before expiry ($name)', async ({ expire, cachedUntilMs }) => {
    const clock = manualClock(1_000);
    const source = grants();
    const provider = new TokenProvider(source.fetch, clock);
    const first = provider.get();
    source.answer('t1', expire);
    await first;
    clock.set(1_000 + cachedUntilMs - 1);
    expect(await provider.get()).toBe('t1');
    clock.set(1_000 + cachedUntilMs);
    const renewed = provider.get();
    expect(source.fetches()).toBe(2);
    source.answer('t2', expire);
    expect(await renewed).toBe('t2');
  });

  it('shares one fetch among concurrent callers', async () => {
    const source = grants();
    const provider = new TokenProvider(source.fetch, manualClock(0));
    const callers = Array.from({ length: 10 }, () => provider.get());
    source.answer('t1');
    expect(await Promise.all(callers)).toEqual(Array(10).fill('t1'));
    expect(source.fetches()).toBe(1);
  });

  it('after invalidation by N concurrent callers, fetches once', async () => {
    const source = grants();
    const provider = new TokenProvider(source.fetch, manualClock(0));
    const first = provider.get();
    source.answer('t1');
    const old = await first;
    const refetched = Array.from({ length: 8 }, () => {
      provider.invalidate(old);
      return provider.get();
    });
    source.answer('t2');
    expect(await Promise.all(refetched)).toEqual(Array(8).fill('t2'));
    expect(source.fetches()).toBe(2);
    // A late invalidation with the old token leaves the new one alone.
    provider.invalidate(old);
    expect(await provider.get()).toBe('t2');
    expect(source.fetches()).toBe(2);
  });

  it('holds a refusal (bad credentials) for a while instead of asking again', async () => {
    const clock = manualClock(0);
    const source = grants();
    const provider = new TokenProvider(source.fetch, clock, 30_000);
    const refusal = apiFailure('token', 'code_1003', 'invalid encryption');
    const first = provider.get();
    source.fail(refusal);
    await expect(first).rejects.toBe(refusal);
    clock.advance(29_999);
    await expect(provider.get()).rejects.toBe(refusal);
    expect(source.fetches()).toBe(1);
    clock.advance(1);
    const retried = provider.get();
    source.answer('t1');
    expect(await retried).toBe('t1');
    expect(source.fetches()).toBe(2);
  });

  it('asks again at once after a transient failure', async () => {
    const source = grants();
    const provider = new TokenProvider(source.fetch, manualClock(0));
    const first = provider.get();
    source.fail(apiFailure('token', 'timeout'));
    await expect(first).rejects.toMatchObject({ outcome: 'timeout' });
    const second = provider.get();
    source.answer('t1');
    expect(await second).toBe('t1');
  });

  it('lets a caller leave on abort, and aborts the fetch when no caller is left', async () => {
    const source = grants();
    const provider = new TokenProvider(source.fetch, manualClock(0));
    const a = new AbortController();
    const b = new AbortController();
    const first = provider.get(a.signal);
    const second = provider.get(b.signal);
    const fetchSignal = source.pending[0]!.signal;
    a.abort(new Error('a left'));
    await expect(first).rejects.toThrow('a left');
    expect(fetchSignal.aborted).toBe(false);
    b.abort(new Error('b left'));
    await expect(second).rejects.toThrow('b left');
    expect(fetchSignal.aborted).toBe(true);
    // The abandoned fetch is not joined by the next caller.
    const third = provider.get();
    expect(source.fetches()).toBe(2);
    source.fail(fetchSignal.reason);
    source.answer('t3');
    expect(await third).toBe('t3');
  });
});

describe('tokenRequest', () => {
  it('posts appKey, a fresh timestamp and its encryption', () => {
    const request = tokenRequest('https://gw.example/base/', 'key', new Secret('shh'), 1_700_000_000_000);
    expect(request.method).toBe('POST');
    expect(request.url.href).toBe(`https://gw.example/base${TOKEN_PATH}`);
    expect(JSON.parse(request.body!)).toEqual({
      appKey: 'key',
      encryption: tokenEncryption('key', 1_700_000_000_000, 'shh'),
      timestamp: 1_700_000_000_000,
    });
  });
});
