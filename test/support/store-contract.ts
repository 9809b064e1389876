import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deviceId } from '../../src/domain/device-id.js';
import type { DeviceRef } from '../../src/domain/types.js';
import type { Store, StoredSnapshot } from '../../src/state/store.js';
import { certificate, changeEvent, snapshot } from './store-fixtures.js';

export interface StoreHarness {
  readonly store: Store;
  /** A lease TTL short enough for `expireLease` to be quick. */
  readonly leaseTtlMs: number;
  /** Resolves once a lease taken with `leaseTtlMs` has run out. */
  expireLease(): Promise<void>;
}

const deviceA: DeviceRef = { orgId: 'o1', assetId: 'asset-a' };
const deviceB: DeviceRef = { orgId: 'o1', productKey: 'pk', deviceKey: 'dk-b' };
const deviceC: DeviceRef = { orgId: 'o2', assetId: 'asset-c' };
const idA = deviceId(deviceA);
const idB = deviceId(deviceB);
const idC = deviceId(deviceC);

/** The behaviour every Store shares; MemoryStore and RedisStore run the same cases. */
export function describeStoreContract(name: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`${name}: Store contract`, () => {
    let harness: StoreHarness;
    let store: Store;

    beforeEach(async () => {
      harness = await makeHarness();
      store = harness.store;
    });
    afterEach(async () => {
      await store.close();
    });

    it('stores a first snapshot at version 1 and reads it back', async () => {
      const revoked = certificate({ certSN: 'sn-2', status: 'revoked', notBefore: null });
      const first = snapshot(deviceA, [certificate(), revoked]);
      expect(await store.commit([{ id: idA, expectedVersion: 0, snapshot: first, events: [] }])).toEqual([
        { status: 'committed', version: 1 },
      ]);
      const found = await store.getSnapshots([idA, 'o1/unknown']);
      expect([...found.keys()]).toEqual([idA]);
      expect(found.get(idA)).toEqual({ id: idA, version: 1, snapshot: first });
    });

    it('commits only at the expected version', async () => {
      const first = snapshot(deviceA);
      const second = snapshot(deviceA, [certificate({ certSN: 'sn-2' })], 1_760_000_000_000);
      const request = (expectedVersion: number, s = second) => [{ id: idA, expectedVersion, snapshot: s, events: [] }];
      expect(await store.commit(request(0, first))).toEqual([{ status: 'committed', version: 1 }]);
      expect(await store.commit(request(0))).toEqual([{ status: 'conflict' }]);
      expect(await store.commit(request(1))).toEqual([{ status: 'committed', version: 2 }]);
      expect(await store.commit(request(1))).toEqual([{ status: 'conflict' }]);
      expect(await store.commit(request(5))).toEqual([{ status: 'conflict' }]);
      expect((await store.getSnapshots([idA])).get(idA)).toEqual({ id: idA, version: 2, snapshot: second });
    });

    it('records the events of a commit, and none of a conflicting one', async () => {
      const added = changeEvent(deviceA);
      await store.commit([{ id: idA, expectedVersion: 0, snapshot: snapshot(deviceA), events: [added] }]);
      const lost = changeEvent(deviceA, { type: 'revoked', from: 'valid', to: 'revoked', revoker: 'ops' });
      const late = { id: idA, expectedVersion: 0, snapshot: snapshot(deviceA), events: [lost] };
      expect(await store.commit([late])).toEqual([{ status: 'conflict' }]);
      expect(await store.history({ limit: 10 })).toEqual([added]);
    });

    it('answers a batch in request order, deciding each device on its own', async () => {
      await store.commit([{ id: idB, expectedVersion: 0, snapshot: snapshot(deviceB), events: [] }]);
      const results = await store.commit([
        { id: idA, expectedVersion: 0, snapshot: snapshot(deviceA), events: [changeEvent(deviceA)] },
        { id: idB, expectedVersion: 0, snapshot: snapshot(deviceB), events: [changeEvent(deviceB)] },
        { id: idC, expectedVersion: 0, snapshot: snapshot(deviceC), events: [] },
      ]);
      expect(results).toEqual([
        { status: 'committed', version: 1 },
        { status: 'conflict' },
        { status: 'committed', version: 1 },
      ]);
      expect(await store.history({ limit: 10 })).toEqual([changeEvent(deviceA)]);
    });

    it('lists every stored snapshot', async () => {
      await store.commit(
        [deviceA, deviceB, deviceC].map((d) => ({ id: deviceId(d), expectedVersion: 0, snapshot: snapshot(d), events: [] })),
      );
      await store.commit([{ id: idB, expectedVersion: 1, snapshot: snapshot(deviceB, []), events: [] }]);
      const all: StoredSnapshot[] = [];
      for await (const stored of store.allSnapshots()) all.push(stored);
      expect(all.sort((x, y) => x.id.localeCompare(y.id))).toEqual(
        [
          { id: idA, version: 1, snapshot: snapshot(deviceA) },
          { id: idB, version: 2, snapshot: snapshot(deviceB, []) },
          { id: idC, version: 1, snapshot: snapshot(deviceC) },
        ].sort((x, y) => x.id.localeCompare(y.id)),
      );
    });

    it('deletes snapshots but not their history, and lists what changed since a generation', async () => {
      const start = await store.changedSince(0);
      expect(start.ids).toBeUndefined();
      const added = changeEvent(deviceA);
      await store.commit([
        { id: idA, expectedVersion: 0, snapshot: snapshot(deviceA), events: [added] },
        { id: idB, expectedVersion: 0, snapshot: snapshot(deviceB), events: [] },
        { id: idC, expectedVersion: 0, snapshot: snapshot(deviceC), events: [] },
      ]);
      const afterCommits = await store.changedSince(0);
      expect(afterCommits.generation).toBeGreaterThan(start.generation);
      const written = await store.changedSince(afterCommits.generation);
      expect(written).toEqual({ generation: afterCommits.generation, ids: [] });

      expect(await store.deleteSnapshots([idB, idC, 'o9/never-stored'])).toBe(2);
      expect(await store.deleteSnapshots([idB])).toBe(0);
      const deleted = await store.changedSince(written.generation);
      expect([...deleted.ids!].sort()).toEqual([idB, idC].sort());
      expect(deleted.generation).toBeGreaterThan(written.generation);
      expect([...(await store.getSnapshots([idA, idB, idC])).keys()]).toEqual([idA]);
      const ids: string[] = [];
      for await (const id of store.snapshotIds()) ids.push(id);
      expect(ids).toEqual([idA]);
      expect(await store.history({ limit: 10 })).toEqual([added]);

      await store.commit([{ id: idB, expectedVersion: 0, snapshot: snapshot(deviceB), events: [] }]);
      expect(await store.changedSince(deleted.generation)).toEqual({ generation: deleted.generation + 1, ids: [idB] });
      // A reader ahead of the store (it was emptied and written again) must read everything.
      expect((await store.changedSince(deleted.generation + 1_000)).ids).toBeUndefined();
    });

    it('returns the history newest first, by device and up to the limit', async () => {
      const a1 = changeEvent(deviceA, { certSN: 'a1' });
      const a2 = changeEvent(deviceA, { certSN: 'a2', type: 'removed', from: 'valid', to: null });
      const b1 = changeEvent(deviceB, { certSN: 'b1' });
      const a3 = changeEvent(deviceA, { certSN: 'a3', type: 'renewed', from: 'critical', to: 'a4' });
      await store.commit([{ id: idA, expectedVersion: 0, snapshot: snapshot(deviceA), events: [a1, a2] }]);
      await store.commit([{ id: idB, expectedVersion: 0, snapshot: snapshot(deviceB), events: [b1] }]);
      await store.commit([{ id: idA, expectedVersion: 1, snapshot: snapshot(deviceA), events: [a3] }]);

      expect(await store.history({ limit: 10 })).toEqual([a3, b1, a2, a1]);
      expect(await store.history({ limit: 2 })).toEqual([a3, b1]);
      expect(await store.history({ deviceId: idA, limit: 10 })).toEqual([a3, a2, a1]);
      expect(await store.history({ deviceId: idA, limit: 2 })).toEqual([a3, a2]);
      expect(await store.history({ deviceId: idB, limit: 10 })).toEqual([b1]);
      expect(await store.history({ deviceId: idC, limit: 10 })).toEqual([]);
      expect(await store.history({ limit: 0 })).toEqual([]);
    });

    it('keeps alert state: set, overwrite and remove in one write', async () => {
      expect(await store.readAlertState()).toEqual(new Map());
      await store.writeAlertState(new Map([['k1', 'one'], ['k2', 'two'], ['k3', 'three']]), []);
      await store.writeAlertState(new Map([['k2', 'TWO']]), ['k1', 'missing']);
      expect(await store.readAlertState()).toEqual(new Map([['k2', 'TWO'], ['k3', 'three']]));
      await store.writeAlertState(new Map(), []);
      expect(await store.readAlertState()).toEqual(new Map([['k2', 'TWO'], ['k3', 'three']]));
    });

    it('grants the lease to one holder, renews it for that holder only, releases it for that holder only', async () => {
      const ttl = harness.leaseTtlMs;
      expect(await store.acquireLease('a', ttl)).toBe(true);
      expect(await store.acquireLease('a', ttl)).toBe(true);
      expect(await store.acquireLease('b', ttl)).toBe(false);
      await store.releaseLease('b');
      expect(await store.acquireLease('b', ttl)).toBe(false);
      await store.releaseLease('a');
      expect(await store.acquireLease('b', ttl)).toBe(true);
      expect(await store.acquireLease('a', ttl)).toBe(false);
    });

    it('lets another holder take a lease that expired', async () => {
      expect(await store.acquireLease('a', harness.leaseTtlMs)).toBe(true);
      expect(await store.acquireLease('b', harness.leaseTtlMs)).toBe(false);
      await harness.expireLease();
      expect(await store.acquireLease('b', harness.leaseTtlMs)).toBe(true);
      expect(await store.acquireLease('a', harness.leaseTtlMs)).toBe(false);
    });

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
