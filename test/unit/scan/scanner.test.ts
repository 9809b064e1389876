import { describe, expect, it, vi } from 'vitest';
import { deviceId } from '../../../src/domain/device-id.js';
import type { Certificate } from '../../../src/domain/types.js';
import { runScan, type ScannerDeps } from '../../../src/scan/scanner.js';
import { FleetView } from '../../../src/state/fleet-view.js';
import { MemoryStore } from '../../../src/state/memory-store.js';
import type { CommitRequest, CommitResult, Fence, Store } from '../../../src/state/store.js';
import { manualClock } from '../../../src/util/clock.js';
import { silentLogger } from '../../../src/util/log.js';
import { cert, NOW, THRESHOLDS } from '../domain/fixtures.js';
import { devices, FakeApi, source, writerFence } from './fakes.js';

async function setup(overrides: Partial<ScannerDeps> = {}) {
  const clock = manualClock(NOW);
  const api = new FakeApi();
  const store = new MemoryStore({ historyMaxLength: 1000, clock });
  const fleet = new FleetView();
  const fence = await writerFence(overrides.store ?? store);
  const deps: ScannerDeps = { api, store, fence, fleet, clock, log: silentLogger, thresholds: THRESHOLDS, concurrency: 4, ...overrides };
  const scan = (list = devices(3), complete = true, signal = new AbortController().signal) => runScan(source(list, complete), deps, signal);
  return { clock, api, store, fleet, deps, scan };
}

const A1 = 'o1/a1';
const A2 = 'o1/a2';
const A3 = 'o1/a3';

describe('runScan', () => {
  it('takes the first answers as the baseline: no events, fleet filled, success', async () => {
    const { api, fleet, store, scan } = await setup();
    api.answers.set(A1, [cert('1', 90), cert('2', 10, 'revoked')]);
    api.answers.set(A2, []);
    api.answers.set(A3, [cert('3', 5)]);
    const report = await scan();
    expect(report.events).toEqual([]);
    expect(report.deviceProblems).toEqual([]);
    expect(report.summary).toMatchObject({ result: 'success', devices: { total: 3, ok: 3, notFound: 0, failed: 0 }, inventoryComplete: true });
    expect(fleet.get(A1)?.certificates.map((c) => c.certSN)).toEqual(['1', '2']);
    expect((await store.getSnapshots([A1, A2, A3])).size).toBe(3);
  });

  it('records each change once, durably, from the second scan on', async () => {
    const { api, store, scan } = await setup();
    api.answers.set(A1, [cert('1', 90)]);
    api.answers.set(A2, [cert('2', 20)]);
    api.answers.set(A3, [cert('3', 90)]);
    await scan();
    api.answers.set(A1, [cert('1', 90, 'revoked')]);
    api.answers.set(A2, [cert('2', 20), cert('4', 365)]);
    api.answers.set(A3, []);
    const report = await scan();
    const changes = report.events.map((e) => `${e.type}:${e.certSN}`).sort();
    expect(changes).toEqual(['added:4', 'removed:3', 'renewed:2', 'revoked:1']);
    expect((await store.history({ limit: 10 })).map((e) => `${e.type}:${e.certSN}`).sort()).toEqual(changes);
    expect((await scan()).events).toEqual([]);
  });

  it.each([
    ['a gateway error', 'code_99500', 'error', 'success'],
    ['a timeout', 'timeout', 'error', 'success'],
    ['an unknown device (11404)', 'code_11404', 'not_found', 'success'],
  ] as const)('keeps the snapshot and emits nothing on %s', async (_name, failure, query, result) => {
    const { api, fleet, store, scan } = await setup();
    const before: Certificate[] = [cert('1', 90)];
    api.answers.set(A1, before);
    api.answers.set(A2, []);
    api.answers.set(A3, []);
    await scan();
    if (failure === 'code_11404') api.answers.delete(A1);
    else api.answers.set(A1, failure);
    const report = await scan();
    expect(report.events).toEqual([]);
    expect(report.summary.result).toBe(result);
    expect(fleet.get(A1)).toMatchObject({ query, certificates: before });
    expect((await store.getSnapshots([A1])).get(A1)?.snapshot.certificates).toEqual(before);
    if (query === 'error') expect(report.deviceProblems.find((o) => o.id === A1)).toMatchObject({ reason: failure });
  });

  it('is partial when the store fails for some devices, not for their own failures', async () => {
    let calls = 0;
    const inner = new MemoryStore({ historyMaxLength: 100, clock: manualClock(NOW) });
    const flaky = wrapStore(inner, {
      commit: (requests, fence) => (++calls === 2 ? Promise.reject(new Error('connection reset')) : inner.commit(requests, fence)),
    });
    const { api, scan } = await setup({ store: flaky, batchSize: 2, concurrency: 1 });
    for (const device of devices(6)) api.answers.set(deviceId(device), [cert(device.assetId!, 90)]);
    api.answers.set('o1/a6', 'timeout');
    const report = await scan(devices(6));
    expect(report.summary).toMatchObject({ result: 'partial', devices: { total: 6, ok: 3, failed: 3 } });
    expect(report.deviceProblems.filter((o) => o.reason === 'store_error')).toHaveLength(2);
  });

  it('is partial when part of the inventory could not be read, even if every device answered', async () => {
    const { api, scan } = await setup();
    for (const id of [A1, A2, A3]) api.answers.set(id, []);
    expect((await scan(devices(3), false)).summary.result).toBe('partial');
  });

  it("reports a failing device's last good answer, and keeps it while the device keeps failing", async () => {
    const { api, fleet, clock, deps } = await setup();
    const scanAt = (lastCompleteScanStartedAt: number) =>
      runScan(source(devices(3)), { ...deps, lastCompleteScanStartedAt }, new AbortController().signal);
    for (const id of [A1, A2, A3]) api.answers.set(id, [cert('1', 90)]);
    await scanAt(NOW - 3_600_000);
    clock.advance(3_600_000);
    api.answers.set(A1, 'timeout');
    api.answers.delete(A2);
    const failing = await scanAt(NOW);
    expect(failing.deviceProblems.find((o) => o.id === A1)).toMatchObject({ reason: 'timeout', lastAnswerAt: NOW });
    expect(failing.deviceProblems.find((o) => o.id === A2)).toMatchObject({ query: 'not_found', lastAnswerAt: NOW });
    expect(fleet.get(A1)?.lastAnswerAt).toBe(NOW);
    clock.advance(3_600_000);
    const still = await scanAt(NOW + 3_600_000);
    expect(still.deviceProblems.find((o) => o.id === A1)?.lastAnswerAt).toBe(NOW);
    expect(fleet.get(A3)).not.toHaveProperty('lastAnswerAt');
  });

  it('after a restart, takes the last good answer from when the stored snapshot was written', async () => {
    const { api, clock, deps, scan } = await setup();
    for (const id of [A1, A2, A3]) api.answers.set(id, [cert('1', 90)]);
    await scan();
    clock.advance(60_000);
    api.answers.set(A1, 'http_503');
    const report = await runScan(source(devices(3)), { ...deps, fleet: new FleetView() }, new AbortController().signal);
    expect(report.deviceProblems.find((o) => o.id === A1)).toMatchObject({ reason: 'http_503', lastAnswerAt: NOW });
  });

  it('reports no last answer for a device that never answered', async () => {
    const { api, scan } = await setup();
    api.answers.set(A1, 'http_503');
    api.answers.set(A2, []);
    api.answers.set(A3, []);
    const report = await scan();
    expect(report.deviceProblems.find((o) => o.id === A1)).not.toHaveProperty('lastAnswerAt');
  });

  it('fails the scan when no device answers', async () => {
    const { api, scan } = await setup();
    for (const id of [A1, A2, A3]) api.answers.set(id, 'http_401');
    expect((await scan()).summary).toMatchObject({ result: 'failure', devices: { total: 3, ok: 0, failed: 3 } });
  });

  it('never has more than `concurrency` queries in flight', async () => {
    const { api, scan } = await setup({ concurrency: 3 });
    for (const device of devices(50)) api.answers.set(deviceId(device), []);
    await scan(devices(50));
    expect(api.calls).toBe(50);
    expect(api.maxInFlight).toBe(3);
  });

  it('lets every query in flight wait on the scan signal without a listener-leak warning', async () => {
    const { api, scan } = await setup({ concurrency: 32 });
    const list = devices(32);
    for (const device of list) api.answers.set(deviceId(device), []);
    const warnings: Error[] = [];
    const onWarning = (warning: Error): number => warnings.push(warning);
    process.on('warning', onWarning);
    let release!: () => void;
    api.gate = new Promise((resolve) => (release = resolve));
    const scanned = scan(list);
    await vi.waitFor(() => expect(api.inFlight).toBe(32));
    release();
    await scanned;
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(warnings.map((warning) => warning.name)).not.toContain('MaxListenersExceededWarning');
  });

  it('reads and writes the store once per batch', async () => {
    const counting = countingStore();
    const { api, scan } = await setup({ store: counting.store, batchSize: 10 });
    for (const device of devices(45)) api.answers.set(deviceId(device), [cert(device.assetId!, 90)]);
    await scan(devices(45));
    expect(counting.reads).toBe(5);
    expect(counting.writes).toBe(5);
    counting.reads = counting.writes = 0;
    await scan(devices(45));
    expect(counting.reads).toBe(5);
    expect(counting.writes).toBe(0);
  });

  it('removes devices that left a complete inventory, and only then', async () => {
    const { api, fleet, scan } = await setup();
    for (const id of [A1, A2, A3]) api.answers.set(id, []);
    await scan();
    await scan(devices(2), false);
    expect(fleet.size).toBe(3);
    await scan(devices(2), true);
    expect([...fleet.ids()]).toEqual([A1, A2]);
  });

  it('stops on abort, stores what was answered, and reports it', async () => {
    const { api, store, scan } = await setup({ concurrency: 2 });
    for (const device of devices(10)) api.answers.set(deviceId(device), [cert('x', 90)]);
    const controller = new AbortController();
    let release!: () => void;
    api.gate = new Promise((resolve) => (release = resolve));
    const running = scan(devices(10), true, controller.signal);
    await expect.poll(() => api.inFlight).toBe(2);
    controller.abort(new Error('shutdown'));
    release();
    const report = await running;
    expect(report.summary.aborted).toBe(true);
    expect(report.summary.result).not.toBe('success');
    expect(api.calls).toBe(2);
    const stored = await store.getSnapshots(devices(10).map(deviceId));
    expect(stored.size).toBe(report.summary.devices.ok);
  });

  it('marks devices failed with store_error when the store is down, without crashing', async () => {
    const { api, scan } = await setup({ store: failingStore() });
    for (const id of [A1, A2, A3]) api.answers.set(id, []);
    const report = await scan();
    expect(report.summary.result).toBe('failure');
    expect(report.deviceProblems.map((o) => o.reason)).toEqual(['store_error', 'store_error', 'store_error']);
  });

  it('diffs again after a concurrent writer changed the snapshot, so each change is applied once', async () => {
    const clock = manualClock(NOW);
    const store = new MemoryStore({ historyMaxLength: 100, clock });
    const racing = new FakeApi();
    racing.answers.set(A1, [cert('1', 90)]);
    const base = { store, fence: await writerFence(store), clock, log: silentLogger, thresholds: THRESHOLDS, concurrency: 1 };
    await runScan(source(devices(1)), { ...base, api: racing, fleet: new FleetView() }, new AbortController().signal);
    racing.answers.set(A1, [cert('1', 90, 'revoked')]);
    // Scanner B reads the snapshot, then scanner A commits the same revocation before B writes.
    let raced = false;
    const interleaved = wrapStore(store, {
      commit: async (requests, fence) => {
        if (!raced) {
          raced = true;
          await runScan(source(devices(1)), { ...base, api: racing, fleet: new FleetView() }, new AbortController().signal);
        }
        return store.commit(requests, fence);
      },
    });
    const report = await runScan(source(devices(1)), { ...base, store: interleaved, api: racing, fleet: new FleetView() }, new AbortController().signal);
    expect(report.events).toEqual([]);
    expect((await store.history({ limit: 10 })).map((e) => e.type)).toEqual(['revoked']);
  });
});

describe('runScan against other writers', () => {
  it('drops an answer older than the stored snapshot, on a conflict too: no event, the newer snapshot kept', async () => {
    const { api, store, fleet, clock, deps } = await setup({ concurrency: 1 });
    api.answers.set(A1, [cert('1', 90)]);
    await runScan(source(devices(1)), deps, new AbortController().signal);
    // This scanner gets its answer (the old world), then a newer scanner stores a newer world first.
    api.answers.set(A1, [cert('1', 90), cert('2', 365)]);
    const newer = [cert('1', 90, 'revoked')];
    const racing = wrapStore(store, {
      commit: async (requests, fence) => {
        clock.advance(1_000);
        const newerScan = new FakeApi();
        newerScan.answers.set(A1, newer);
        await runScan(source(devices(1)), { ...deps, api: newerScan, fleet: new FleetView() }, new AbortController().signal);
        return store.commit(requests, fence);
      },
    });
    const report = await runScan(source(devices(1)), { ...deps, store: racing }, new AbortController().signal);
    expect(report.events).toEqual([]);
    expect(report.deviceProblems).toEqual([]);
    expect(report.summary.devices).toMatchObject({ total: 1, ok: 1 });
    expect(fleet.get(A1)?.certificates.map((c) => `${c.certSN}:${c.status}`)).toEqual(['1:revoked']);
    expect((await store.getSnapshots([A1])).get(A1)?.snapshot.certificates).toEqual(newer);
    expect((await store.history({ limit: 10 })).map((e) => `${e.type}:${e.certSN}`)).toEqual(['revoked:1']);
  });

  it('stops at the first write the store refuses for a lost lease, and writes nothing more', async () => {
    const { api, store, scan, deps } = await setup({ concurrency: 1, batchSize: 2 });
    for (const device of devices(6)) api.answers.set(deviceId(device), [cert(device.assetId!, 90)]);
    await scan(devices(6));
    for (const device of devices(6)) api.answers.set(deviceId(device), [cert(device.assetId!, 90, 'revoked')]);
    let commits = 0;
    const takenOver = wrapStore(store, {
      commit: async (requests, fence) => {
        // After the first batch, the lease runs out and another replica takes it.
        if (++commits === 2) {
          await store.releaseLease(fence);
          await writerFence(store, 'other');
        }
        return store.commit(requests, fence);
      },
    });
    const report = await runScan(source(devices(6)), { ...deps, store: takenOver }, new AbortController().signal);
    expect(report.leaseLost).toBe(true);
    expect(report.summary.aborted).toBe(true);
    expect(commits).toBe(2);
    expect(report.deviceProblems.filter((o) => o.reason === 'lease_lost').length).toBeGreaterThan(0);
    expect((await store.history({ limit: 10 })).map((e) => e.type)).toEqual(['revoked', 'revoked']);
  });

  it('stores the alert records of a change in the same step as the change', async () => {
    const alertRecordsFor = (events: readonly { certSN: string }[]) => new Map(events.map((e) => [`hold:${e.certSN}`, 'record']));
    const { api, store, scan } = await setup({ alertRecordsFor });
    for (const id of [A1, A2, A3]) api.answers.set(id, [cert(id, 90)]);
    await scan();
    api.answers.set(A2, [cert(A2, 90, 'revoked')]);
    await scan();
    expect(await store.readAlertState()).toEqual(new Map([[`hold:${A2}`, 'record']]));
  });

  it('diffs without writing when read-only (no fence)', async () => {
    const { api, store, scan, deps } = await setup();
    for (const id of [A1, A2, A3]) api.answers.set(id, [cert(id, 90)]);
    await scan();
    api.answers.set(A1, [cert(A1, 90, 'revoked')]);
    const report = await runScan(source(devices(3)), { ...deps, fence: undefined }, new AbortController().signal);
    expect(report.events.map((e) => e.type)).toEqual(['revoked']);
    expect(await store.history({ limit: 10 })).toEqual([]);
    expect((await store.getSnapshots([A1])).get(A1)?.snapshot.certificates).toEqual([cert(A1, 90)]);
  });
});

/** The store with some methods replaced; the rest still run on the real instance. */
function wrapStore(inner: Store, overrides: Partial<Store>): Store {
  return new Proxy(inner, {
    get(target, property, receiver) {
      const override = (overrides as Record<PropertyKey, unknown>)[property];
      if (override !== undefined) return override;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function countingStore() {
  const inner = new MemoryStore({ historyMaxLength: 1000, clock: manualClock(NOW) });
  const counter = { reads: 0, writes: 0, store: inner as Store };
  counter.store = wrapStore(inner, {
    getSnapshots: (ids: readonly string[]) => {
      counter.reads++;
      return inner.getSnapshots(ids);
    },
    commit: (requests: readonly CommitRequest[], fence: Fence): Promise<CommitResult[]> => {
      counter.writes++;
      return inner.commit(requests, fence);
    },
  });
  return counter;
}

function failingStore(): Store {
  const down = () => Promise.reject(new Error('connection is closed'));
  return wrapStore(new MemoryStore({ historyMaxLength: 10, clock: manualClock(NOW) }), { getSnapshots: down, commit: down });
}
