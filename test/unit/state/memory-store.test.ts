import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../src/state/memory-store.js';
import { manualClock } from '../../../src/util/clock.js';
import { describeStoreContract } from '../../support/store-contract.js';
import { certificate, changeEvent, heldFence, snapshot } from '../../support/store-fixtures.js';

const device = { orgId: 'o1', assetId: 'a1' };

describeStoreContract('MemoryStore', async () => {
  const clock = manualClock(1_000_000);
  const leaseTtlMs = 30_000;
  return {
    store: new MemoryStore({ historyMaxLength: 100, clock }),
    leaseTtlMs,
    expireLease: async () => clock.advance(leaseTtlMs),
  };
});

describe('MemoryStore', () => {
  it('keeps exactly the newest historyMaxLength events', async () => {
    const store = new MemoryStore({ historyMaxLength: 3, clock: manualClock(0) });
    const fence = heldFence(await store.acquireLease('writer', 1_000));
    const events = [1, 2, 3, 4, 5].map((n) => changeEvent(device, { certSN: `sn-${n}` }));
    await store.commit([{ id: 'o1/a1', expectedVersion: 0, snapshot: snapshot(device), events: events.slice(0, 2) }], fence);
    await store.commit([{ id: 'o1/a1', expectedVersion: 1, snapshot: snapshot(device), events: events.slice(2) }], fence);
    expect((await store.history({ limit: 10 })).map((e) => e.certSN)).toEqual(['sn-5', 'sn-4', 'sn-3']);
  });

  it('holds a lease until exactly its TTL has passed, counted from the last renewal', async () => {
    const clock = manualClock(0);
    const store = new MemoryStore({ historyMaxLength: 10, clock });
    const a = heldFence(await store.acquireLease('a', 1_000));
    clock.advance(600);
    expect(await store.acquireLease('a', 1_000)).toEqual({ held: true, fence: a });
    clock.advance(999);
    expect(await store.acquireLease('b', 1_000)).toEqual({ held: false, holder: 'a' });
    clock.advance(1);
    expect(await store.acquireLease('b', 1_000)).toMatchObject({ held: true });
  });

  it('keeps only the fields of the domain types (never a raw PEM)', async () => {
    const store = new MemoryStore({ historyMaxLength: 10, clock: manualClock(0) });
    const fence = heldFence(await store.acquireLease('writer', 1_000));
    const withPem = { ...certificate(), cert: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----' };
    await store.commit([{ id: 'o1/a1', expectedVersion: 0, snapshot: snapshot(device, [withPem]), events: [] }], fence);
    const stored = (await store.getSnapshots(['o1/a1'])).get('o1/a1');
    expect(stored?.snapshot.certificates).toEqual([certificate()]);
    expect(JSON.stringify(stored)).not.toContain('BEGIN CERTIFICATE');
  });

  it('rejects every call once closed', async () => {
    const store = new MemoryStore({ historyMaxLength: 10, clock: manualClock(0) });
    await store.close();
    await expect(store.getSnapshots(['o1/a1'])).rejects.toThrow('store is closed');
    await expect(store.ping()).rejects.toThrow('store is closed');
  });
});
