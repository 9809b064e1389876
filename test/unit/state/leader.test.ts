import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LeaderElection } from '../../../src/state/leader.js';
import { MemoryStore } from '../../../src/state/memory-store.js';
import type { Fence, Store } from '../../../src/state/store.js';
import { silentLogger } from '../../../src/util/log.js';

const LEASE_MS = 3_000;
const clock = { now: () => Date.now() };

/** The store, with lease calls that fail while `down` is set. */
function flakyStore(inner: Store): Store & { down: boolean } {
  const store = Object.create(inner) as Store & { down: boolean };
  store.down = false;
  store.acquireLease = (holder, ttlMs) => (store.down ? Promise.reject(new Error('no answer')) : inner.acquireLease(holder, ttlMs));
  return store;
}

function election(store: Store, holder = 'a') {
  const changes: (Fence | undefined)[] = [];
  const elected = new LeaderElection({ store, holder, leaseMs: LEASE_MS, log: silentLogger, onChange: (fence) => changes.push(fence), now: () => Date.now() });
  return { elected, changes };
}

describe('LeaderElection', () => {
  let inner: MemoryStore;
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
    inner = new MemoryStore({ historyMaxLength: 10, clock });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps leadership through a failed renewal while the lease still stands', async () => {
    const store = flakyStore(inner);
    const { elected, changes } = election(store);
    await elected.start();
    const fence = elected.fence!;
    store.down = true;
    await vi.advanceTimersByTimeAsync(LEASE_MS / 3 + 10);
    expect(elected.leader).toBe(true);
    store.down = false;
    await vi.advanceTimersByTimeAsync(LEASE_MS / 3);
    expect(elected.fence).toBe(fence);
    expect(changes).toEqual([fence]);
    await elected.stop({ release: true });
  });

  it('gives leadership up at its local deadline, before the lease can run out in the store, and knows it led into the outage', async () => {
    const store = flakyStore(inner);
    const { elected, changes } = election(store);
    await elected.start();
    const startedAt = Date.now();
    store.down = true;
    while (elected.leader && Date.now() - startedAt < 2 * LEASE_MS) await vi.advanceTimersByTimeAsync(50);
    const heldFor = Date.now() - startedAt;
    expect(heldFor).toBeLessThan(LEASE_MS);
    expect(heldFor).toBeGreaterThanOrEqual(LEASE_MS / 2);
    expect(changes.at(-1)).toBeUndefined();
    expect(elected.ledIntoOutage).toBe(true);
    expect(elected.standing).toEqual({ state: 'unreachable' });
    store.down = false;
    await vi.advanceTimersByTimeAsync(LEASE_MS);
    expect(elected.ledIntoOutage).toBe(false);
    await elected.stop({ release: true });
  });

  it('knows the moment it runs again that a freeze outlasted its lease, before any timer fires', async () => {
    const { elected } = election(inner);
    await elected.start();
    expect(elected.leader).toBe(true);
    vi.setSystemTime(Date.now() + LEASE_MS); // frozen: time passed, no timer ran
    expect(elected.leader).toBe(false);
    expect(elected.fence).toBeUndefined();
    await elected.stop({ release: false });
  });

  it('names the holder while another holds the lease, and takes it under a new fence once it runs out', async () => {
    const a = election(inner, 'a');
    const b = election(inner, 'b');
    await a.elected.start();
    await b.elected.start();
    expect(b.elected.standing).toEqual({ state: 'standby', holder: 'a' });
    const first = a.elected.fence!;
    await a.elected.stop({ release: false });
    await vi.advanceTimersByTimeAsync(LEASE_MS + LEASE_MS / 3);
    const second = b.elected.fence!;
    expect(second).toBeDefined();
    expect(Number(second.split(':')[0])).toBeGreaterThan(Number(first.split(':')[0]));
    expect(b.changes).toEqual([second]);
    await b.elected.stop({ release: true });
    expect(await inner.acquireLease('c', LEASE_MS)).toMatchObject({ held: true });
  });
});
