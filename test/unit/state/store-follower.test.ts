import { describe, expect, it } from 'vitest';
import { deviceId } from '../../../src/domain/device-id.js';
import type { DeviceRef } from '../../../src/domain/types.js';
import { FleetView } from '../../../src/state/fleet-view.js';
import { MemoryStore } from '../../../src/state/memory-store.js';
import type { Store } from '../../../src/state/store.js';
import { StoreFollower } from '../../../src/state/store-follower.js';
import { manualClock } from '../../../src/util/clock.js';
import { heldFence, snapshot } from '../../support/store-fixtures.js';

/** The test's one writer: the lease it takes, or renews, on `store`. */
const fenceOn = async (store: Store) => heldFence(await store.acquireLease('writer', 600_000));

const devices: DeviceRef[] = ['a', 'b', 'c'].map((assetId) => ({ orgId: 'o1', assetId }));
const [idA, idB, idC] = devices.map(deviceId) as [string, string, string];

/** A MemoryStore that counts the calls a follower makes. */
function countingStore(): { store: Store; calls: string[] } {
  const inner = new MemoryStore({ historyMaxLength: 10, clock: manualClock(0) });
  const calls: string[] = [];
  const store = new Proxy(inner, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(name));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, calls };
}

describe('StoreFollower', () => {
  it('reads everything once, then only what changed; nothing changed costs one small call', async () => {
    const { store, calls } = countingStore();
    await store.commit(devices.map((d) => ({ id: deviceId(d), expectedVersion: 0, snapshot: snapshot(d), events: [] })), await fenceOn(store));
    const fleet = new FleetView();
    const follower = new StoreFollower(store, fleet);
    expect(await follower.sync()).toBe(3);
    expect([...fleet.ids()].sort()).toEqual([idA, idB, idC].sort());

    calls.length = 0;
    expect(await follower.sync()).toBe(0);
    expect(calls).toEqual(['changedSince']);

    await store.commit([{ id: idB, expectedVersion: 1, snapshot: snapshot(devices[1]!, []), events: [] }], await fenceOn(store));
    await store.deleteSnapshots([idC], await fenceOn(store));
    calls.length = 0;
    expect(await follower.sync()).toBe(2);
    expect(calls).toEqual(['changedSince', 'getSnapshots']);
    expect([...fleet.ids()].sort()).toEqual([idA, idB].sort());
    expect(fleet.get(idB)?.certificates).toEqual([]);
  });

  it('reads everything again when the store was emptied, dropping what it no longer holds', async () => {
    const before = new MemoryStore({ historyMaxLength: 10, clock: manualClock(0) });
    await before.commit(devices.map((d) => ({ id: deviceId(d), expectedVersion: 0, snapshot: snapshot(d), events: [] })), await fenceOn(before));
    // Redis restarted empty and written once since: its generation is behind the follower's.
    const after = new MemoryStore({ historyMaxLength: 10, clock: manualClock(0) });
    await after.commit([{ id: idA, expectedVersion: 0, snapshot: snapshot(devices[0]!), events: [] }], await fenceOn(after));
    let current: Store = before;
    const store = new Proxy(before, {
      get: (_target, name) => {
        const value = Reflect.get(current, name) as unknown;
        return typeof value === 'function' ? (value as () => unknown).bind(current) : value;
      },
    });
    const fleet = new FleetView();
    const follower = new StoreFollower(store, fleet);
    await follower.sync();
    expect(fleet.size).toBe(3);
    current = after;
    await follower.sync();
    expect([...fleet.ids()]).toEqual([idA]);
  });
});
