import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deviceId } from '../../src/domain/device-id.js';
import type { DeviceRef } from '../../src/domain/types.js';
import { LeaseLostError, type Fence, type Store, type StoredSnapshot } from '../../src/state/store.js';
import { certificate, changeEvent, heldFence, snapshot } from './store-fixtures.js';

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

const token = (fence: Fence): number => Number(fence.slice(0, fence.indexOf(':')));

/** The behaviour every Store shares; MemoryStore and RedisStore run the same cases. */
export function describeStoreContract(name: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`${name}: Store contract`, () => {
    let harness: StoreHarness;
    let store: Store;
    /** The lease every write of a test is made under (lease tests release it first). */
    let fence: Fence;

    beforeEach(async () => {
      harness = await makeHarness();
      store = harness.store;
      fence = heldFence(await store.acquireLease('writer', 600_000));
    });
    afterEach(async () => {
      await store.close();
    });

    it('stores a first snapshot at version 1 and reads it back', async () => {
      const revoked = certificate({ certSN: 'sn-2', status: 'revoked', notBefore: null });
      const first = snapshot(deviceA, [certificate(), revoked]);
      expect(await store.commit([{ id: idA, expectedVersion: 0, snapshot: first, events: [] }], fence)).toEqual([
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
      expect(await store.commit(request(0, first), fence)).toEqual([{ status: 'committed', version: 1 }]);
      expect(await store.commit(request(0), fence)).toEqual([{ status: 'conflict' }]);
      expect(await store.commit(request(1), fence)).toEqual([{ status: 'committed', version: 2 }]);
      expect(await store.commit(request(1), fence)).toEqual([{ status: 'conflict' }]);
      expect(await store.commit(request(5), fence)).toEqual([{ status: 'conflict' }]);
      expect((await store.getSnapshots([idA])).get(idA)).toEqual({ id: idA, version: 2, snapshot: second });
    });

    it('records the events of a commit, and none of a conflicting one', async () => {
      const added = changeEvent(deviceA);
      await store.commit([{ id: idA, expectedVersion: 0, snapshot: snapshot(deviceA), events: [added] }], fence);
      const lost = changeEvent(deviceA, { type: 'revoked', from: 'valid', to: 'revoked', revoker: 'ops' });
      const late = { id: idA, expectedVersion: 0, snapshot: snapshot(deviceA), events: [lost] };
      expect(await store.commit([late], fence)).toEqual([{ status: 'conflict' }]);
      expect(await store.history({ limit: 10 })).toEqual([added]);
    });

    it('answers a batch in request order, deciding each device on its own', async () => {
      await store.commit([{ id: idB, expectedVersion: 0, snapshot: snapshot(deviceB), events: [] }], fence);
      const results = await store.commit([
        { id: idA, expectedVersion: 0, snapshot: snapshot(deviceA), events: [changeEvent(deviceA)] },
        { id: idB, expectedVersion: 0, snapshot: snapshot(deviceB), events: [changeEvent(deviceB)] },
        { id: idC, expectedVersion: 0, snapshot: snapshot(deviceC), events: [] },
      ], fence);
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
        fence,
      );
      await store.commit([{ id: idB, expectedVersion: 1, snapshot: snapshot(deviceB, []), events: [] }], fence);
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
      ], fence);
      const afterCommits = await store.changedSince(0);
      expect(afterCommits.generation).toBeGreaterThan(start.generation);
      const written = await store.changedSince(afterCommits.generation);
      expect(written).toEqual({ generation: afterCommits.generation, ids: [] });

      expect(await store.deleteSnapshots([idB, idC, 'o9/never-stored'], fence)).toBe(2);
      expect(await store.deleteSnapshots([idB], fence)).toBe(0);
      const deleted = await store.changedSince(written.generation);
      expect([...deleted.ids!].sort()).toEqual([idB, idC].sort());
      expect(deleted.generation).toBeGreaterThan(written.generation);
      expect([...(await store.getSnapshots([idA, idB, idC])).keys()]).toEqual([idA]);
      const ids: string[] = [];
      for await (const id of store.snapshotIds()) ids.push(id);
      expect(ids).toEqual([idA]);
      expect(await store.history({ limit: 10 })).toEqual([added]);

      await store.commit([{ id: idB, expectedVersion: 0, snapshot: snapshot(deviceB), events: [] }], fence);
      expect(await store.changedSince(deleted.generation)).toEqual({ generation: deleted.generation + 1, ids: [idB] });
      // A reader ahead of the store (it was emptied and written again) must read everything.
      expect((await store.changedSince(deleted.generation + 1_000)).ids).toBeUndefined();
    });

    it('returns the history newest first, by device and up to the limit', async () => {
      const a1 = changeEvent(deviceA, { certSN: 'a1' });
      const a2 = changeEvent(deviceA, { certSN: 'a2', type: 'removed', from: 'valid', to: null });
      const b1 = changeEvent(deviceB, { certSN: 'b1' });
      const a3 = changeEvent(deviceA, { certSN: 'a3', type: 'renewed', from: 'critical', to: 'a4' });
      await store.commit([{ id: idA, expectedVersion: 0, snapshot: snapshot(deviceA), events: [a1, a2] }], fence);
      await store.commit([{ id: idB, expectedVersion: 0, snapshot: snapshot(deviceB), events: [b1] }], fence);
      await store.commit([{ id: idA, expectedVersion: 1, snapshot: snapshot(deviceA), events: [a3] }], fence);

      expect(await store.history({ limit: 10 })).toEqual([a3, b1, a2, a1]);
      expect(await store.history({ limit: 2 })).toEqual([a3, b1]);
      expect(await store.history({ deviceId: idA, limit: 10 })).toEqual([a3, a2, a1]);
      expect(await store.history({ deviceId: idA, limit: 2 })).toEqual([a3, a2]);
      expect(await store.history({ deviceId: idB, limit: 10 })).toEqual([b1]);
      expect(await store.history({ deviceId: idC, limit: 10 })).toEqual([]);
      expect(await store.history({ limit: 0 })).toEqual([]);
    });

    it('keeps alert state: set, overwrite and remove only the named records, telling whether the marker was there', async () => {
      expect(await store.readAlertState()).toEqual(new Map());
      const write = (set: [string, string][], remove: string[] = []) => store.writeAlertState(new Map(set), remove, fence, 'marker');
      expect(await write([['k1', 'one'], ['k2', 'two'], ['k3', 'three']])).toEqual({ stateWasKept: false });
      expect(await write([['marker', '1'], ['k2', 'TWO']], ['k1', 'missing'])).toEqual({ stateWasKept: false });
      expect(await store.readAlertState()).toEqual(new Map([['marker', '1'], ['k2', 'TWO'], ['k3', 'three']]));
      expect(await write([])).toEqual({ stateWasKept: true });
      expect(await store.readAlertState()).toEqual(new Map([['marker', '1'], ['k2', 'TWO'], ['k3', 'three']]));
    });

    it('grants the lease to one holder, renews it for that holder only, releases it for that fence only', async () => {
      await store.releaseLease(fence);
      const ttl = harness.leaseTtlMs;
      const a = heldFence(await store.acquireLease('a', ttl));
      expect(await store.acquireLease('a', ttl)).toEqual({ held: true, fence: a });
      expect(await store.acquireLease('b', ttl)).toEqual({ held: false, holder: 'a' });
      await store.releaseLease(fence);
      expect(await store.acquireLease('b', ttl)).toEqual({ held: false, holder: 'a' });
      await store.releaseLease(a);
      const b = heldFence(await store.acquireLease('b', ttl));
      expect(await store.acquireLease('a', ttl)).toEqual({ held: false, holder: 'b' });
      expect(token(b)).toBeGreaterThan(token(a));
    });

    it('lets another holder take a lease that expired, with a greater token', async () => {
      await store.releaseLease(fence);
      const a = heldFence(await store.acquireLease('a', harness.leaseTtlMs));
      expect(await store.acquireLease('b', harness.leaseTtlMs)).toEqual({ held: false, holder: 'a' });
      await harness.expireLease();
      const b = heldFence(await store.acquireLease('b', harness.leaseTtlMs));
      expect(token(b)).toBeGreaterThan(token(a));
      expect(await store.acquireLease('a', harness.leaseTtlMs)).toEqual({ held: false, holder: 'b' });
    });

    it('gives a holder that takes its expired lease again a new fence, and refuses the old one', async () => {
      await store.releaseLease(fence);
      const first = heldFence(await store.acquireLease('a', harness.leaseTtlMs));
      await harness.expireLease();
      const second = heldFence(await store.acquireLease('a', harness.leaseTtlMs));
      expect(token(second)).toBeGreaterThan(token(first));
      await expect(store.commit([{ id: idA, expectedVersion: 0, snapshot: snapshot(deviceA), events: [] }], first)).rejects.toThrow(LeaseLostError);
      expect(await store.getSnapshots([idA])).toEqual(new Map());
    });

    it('refuses every write whose fence does not hold the lease, writing nothing', async () => {
      await store.releaseLease(fence);
      const stale = heldFence(await store.acquireLease('a', 600_000));
      await store.releaseLease(stale);
      const current = heldFence(await store.acquireLease('b', 600_000));
      const records = new Map([['hold:x', 'h']]);
      const request = { id: idA, expectedVersion: 0, snapshot: snapshot(deviceA), events: [changeEvent(deviceA)], alertRecords: records };
      await expect(store.commit([request], stale)).rejects.toThrow(LeaseLostError);
      await expect(store.writeAlertState(new Map([['k', 'v']]), [], stale, 'marker')).rejects.toThrow(LeaseLostError);
      await expect(store.deleteSnapshots([idA], stale)).rejects.toThrow(LeaseLostError);
      expect(await store.getSnapshots([idA])).toEqual(new Map());
      expect(await store.history({ limit: 10 })).toEqual([]);
      expect(await store.readAlertState()).toEqual(new Map());
      expect(await store.commit([request], current)).toEqual([{ status: 'committed', version: 1 }]);
      expect(await store.readAlertState()).toEqual(records);
    });

    it('drops an answer older than the stored one (newer wins), whatever the version', async () => {
      const newer = snapshot(deviceA, [certificate({ certSN: 'new' })], 2_000);
      const older = snapshot(deviceA, [certificate({ certSN: 'old' })], 1_000);
      const records = new Map([['hold:a', 'h']]);
      expect(await store.commit([{ id: idA, expectedVersion: 0, snapshot: newer, events: [] }], fence)).toEqual([
        { status: 'committed', version: 1 },
      ]);
      for (const expectedVersion of [0, 1]) {
        const late = { id: idA, expectedVersion, snapshot: older, events: [changeEvent(deviceA)], alertRecords: records };
        expect(await store.commit([late], fence)).toEqual([{ status: 'stale' }]);
      }
      expect((await store.getSnapshots([idA])).get(idA)).toEqual({ id: idA, version: 1, snapshot: newer });
      expect(await store.history({ limit: 10 })).toEqual([]);
      expect(await store.readAlertState()).toEqual(new Map());
    });

    it('writes the alert records of a commit with it, and none of a conflicting one', async () => {
      const first = { id: idA, expectedVersion: 0, snapshot: snapshot(deviceA), events: [], alertRecords: new Map([['hold:1', 'one']]) };
      const conflicting = { ...first, alertRecords: new Map([['hold:2', 'two']]) };
      expect(await store.commit([first], fence)).toEqual([{ status: 'committed', version: 1 }]);
      expect(await store.commit([conflicting], fence)).toEqual([{ status: 'conflict' }]);
      expect(await store.readAlertState()).toEqual(new Map([['hold:1', 'one']]));
    });

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
