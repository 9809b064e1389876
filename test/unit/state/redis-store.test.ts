import { describe, expect, it } from 'vitest';
import { reconnectDelay } from '../../../src/state/redis-connection.js';
import { RedisStore, storeKeys } from '../../../src/state/redis-store.js';
import { captureLog } from '../../support/capture-log.js';
import { freePort } from '../../support/ports.js';
import { waitFor } from '../../support/wait.js';

describe('reconnectDelay', () => {
  it.each([
    [1, 100],
    [2, 200],
    [3, 400],
    [5, 1_600],
    [6, 2_000],
    [1_000, 2_000],
  ])('attempt %i waits %i ms', (attempt, delay) => {
    expect(reconnectDelay(attempt)).toBe(delay);
  });
});

describe('storeKeys', () => {
  it('puts every key under the prefix with the same {certs} hash tag', () => {
    expect(storeKeys('p:')).toEqual({
      snapshots: 'p:{certs}:snapshots',
      events: 'p:{certs}:events',
      alerts: 'p:{certs}:alerts',
      leader: 'p:{certs}:leader',
      fence: 'p:{certs}:fence',
      changes: 'p:{certs}:changes',
      generation: 'p:{certs}:generation',
    });
  });
});

describe('RedisStore without a reachable Redis', () => {
  it('rejects within commandTimeoutMs and never logs the password', async () => {
    const { log, lines } = captureLog();
    const port = await freePort();
    const store = new RedisStore(
      {
        redisUrl: `redis://monitor:s3cret-pw@127.0.0.1:${port}/2`,
        keyPrefix: 't:',
        historyMaxLength: 10,
        commandTimeoutMs: 200,
      },
      { log },
    );
    try {
      const started = Date.now();
      await expect(store.getSnapshots(['o1/a1'])).rejects.toThrow();
      await expect(store.commit([], '1:me')).resolves.toEqual([]);
      await expect(store.acquireLease('me', 1_000)).rejects.toThrow(/no answer within 200 ms/);
      expect(Date.now() - started).toBeLessThan(2 * 200 + 300);
      const failure = await waitFor(() => lines.find((line) => line.msg === 'redis connection failed'), {
        what: 'failure log',
      });
      expect(failure.target).toBe(`redis://127.0.0.1:${port}/2`);
      expect(JSON.stringify(lines)).not.toContain('s3cret-pw');
    } finally {
      await store.close();
    }
  });
});
