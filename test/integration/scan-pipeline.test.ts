import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { deviceId } from '../../src/domain/device-id.js';
import { Monitor } from '../../src/monitor.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { createStore } from '../../src/state/create-store.js';
import { systemClock } from '../../src/util/clock.js';
import { plainCertificate } from '../../src/state/compact-certificate.js';
import { silentLogger } from '../../src/util/log.js';
import { devicePicker, healthy, monitorConfig, needsRenewal, withoutCertificates } from '../support/monitor.js';
import { startRedis } from '../support/redis.js';
import { heldFence } from '../support/store-fixtures.js';
import { waitFor } from '../support/wait.js';

let simulator: Simulator;
const monitors: Monitor[] = [];

function monitor(config = monitorConfig(simulator, { redisUrl: inject('redisUrl') })): Monitor {
  const created = new Monitor(config, { log: silentLogger, clock: systemClock });
  monitors.push(created);
  return created;
}

/** A scan under the lease of one holder shared by the test's monitors (their writes still race on compare-and-set). */
async function scan(m: Monitor) {
  // Retried: the first command of a new client also connects, which a loaded machine may make slow.
  const fence = heldFence(await waitFor(() => m.store.acquireLease('pipeline-test', 600_000), { timeoutMs: 10_000, what: 'the lease' }));
  return m.scan(new AbortController().signal, { fence, held: () => true });
}
const summary = (events: readonly { type: string; certSN: string }[]) => events.map((e) => `${e.type}:${e.certSN}`).sort();

beforeEach(async () => {
  simulator = await startSimulator({ devices: 40, seed: 7 });
});

afterEach(async () => {
  await Promise.all(monitors.splice(0).map((m) => m.close()));
  await simulator.close();
});

describe('scan pipeline against the simulator and a real Redis', () => {
  it('takes a baseline, then records each change type exactly once', async () => {
    const m = monitor();
    const first = await scan(m);
    expect(first.summary).toMatchObject({ result: 'success', devices: { total: 40, ok: 40, failed: 0 } });
    expect(first.events).toEqual([]);

    const pick = devicePicker(simulator, Date.now());
    const revoked = pick(healthy);
    const expired = pick(healthy);
    const renewed = pick(needsRenewal);
    const removed = pick(healthy);
    const added = pick(withoutCertificates);
    simulator.fleet.revoke(revoked.ref, String(revoked.cert!.certSN), 'IoT_Hub', 'KEY COMPROMISE');
    simulator.fleet.expire(expired.ref, String(expired.cert!.certSN));
    const successor = simulator.fleet.renew(renewed.ref, String(renewed.cert!.certSN), 365);
    simulator.fleet.removeCertificate(removed.ref, String(removed.cert!.certSN));
    const newcomer = simulator.fleet.addCertificate(added.ref);

    const second = await scan(m);
    const expected = [
      `revoked:${String(revoked.cert!.certSN)}`,
      `expired:${String(expired.cert!.certSN)}`,
      `added:${successor}`,
      `renewed:${String(renewed.cert!.certSN)}`,
      `removed:${String(removed.cert!.certSN)}`,
      `added:${newcomer}`,
    ].sort();
    expect(summary(second.events)).toEqual(expected);
    expect(second.events.find((e) => e.type === 'revoked')).toMatchObject({ revoker: 'IoT_Hub', revokerReason: 'KEY COMPROMISE' });
    expect(summary(await m.store.history({ limit: 100 }))).toEqual(expected);
    expect((await m.store.history({ deviceId: deviceId(revoked.ref), limit: 10 })).map((e) => e.type)).toEqual(['revoked']);
    expect((await scan(m)).events).toEqual([]);
  });

  it('gives every certificate the status the gateway reports', async () => {
    const m = monitor();
    await scan(m);
    for (let i = 1; i <= simulator.fleet.size; i++) {
      const device = simulator.fleet.device(i)!;
      const raw = simulator.fleet.certificates(device) ?? [];
      const record = m.fleet.get(deviceId(device));
      const statuses = ['valid', 'revoked', 'expired'];
      expect(record?.certificates.map((c) => [c.certSN, c.status, c.notAfter])).toEqual(
        raw.map((c) => [String(c.certSN), statuses[c.certStatus as number], c.expireDate]),
      );
    }
  });

  it('keeps a failing device’s snapshot and emits nothing for it', async () => {
    const m = monitor();
    await scan(m);
    const target = devicePicker(simulator, Date.now())(healthy);
    const id = deviceId(target.ref);
    const before = m.fleet.get(id)!.certificates.map(plainCertificate);
    simulator.fleet.revoke(target.ref, String(target.cert!.certSN));
    simulator.faults.set(target.ref.assetId!, { kind: 'code_99500' });
    const failing = await scan(m);
    // One device's own failure does not make the scan partial: the inventory was walked and stored.
    expect(failing.summary).toMatchObject({ result: 'success', devices: { failed: 1 } });
    expect(failing.events).toEqual([]);
    expect(m.fleet.get(id)).toMatchObject({ query: 'error', reason: 'code_99500' });
    expect(m.fleet.get(id)!.certificates.map(plainCertificate)).toEqual(before);
    expect((await m.store.getSnapshots([id])).get(id)?.snapshot.certificates).toEqual(before);
    simulator.faults.clear();
    expect(summary((await scan(m)).events)).toEqual([`revoked:${String(target.cert!.certSN)}`]);
  });

  it('keeps its state across a restart', async () => {
    const config = monitorConfig(simulator, { redisUrl: inject('redisUrl') });
    await scan(monitor(config));
    const target = devicePicker(simulator, Date.now())(healthy);
    simulator.fleet.revoke(target.ref, String(target.cert!.certSN));
    const restarted = monitor(config);
    expect(await restarted.syncFromStore()).toBe(40);
    expect(summary((await scan(restarted)).events)).toEqual([`revoked:${String(target.cert!.certSN)}`]);
  });

  it('applies each change exactly once with two scanners on the same Redis', async () => {
    const config = monitorConfig(simulator, { redisUrl: inject('redisUrl') });
    const [a, b] = [monitor(config), monitor(config)];
    await scan(a);
    const pick = devicePicker(simulator, Date.now());
    const targets = [pick(healthy), pick(healthy), pick(healthy)];
    for (const t of targets) simulator.fleet.revoke(t.ref, String(t.cert!.certSN));
    const [fromA, fromB] = await Promise.all([scan(a), scan(b)]);
    const expected = targets.map((t) => `revoked:${String(t.cert!.certSN)}`).sort();
    expect(summary([...fromA.events, ...fromB.events])).toEqual(expected);
    expect(summary(await a.store.history({ limit: 100 }))).toEqual(expected);
  });

  it('discovers every device once while new devices shift the pages', async () => {
    await simulator.close();
    simulator = await startSimulator({ devices: 650, seed: 3, latencyMs: 15 });
    const m = monitor();
    let added = 0;
    const originalSearch = simulator.stats.searchRequests;
    // Each time a search page is answered, a new device appears at the front.
    const timer = setInterval(() => {
      if (simulator.stats.searchRequests > originalSearch + added && added < 3) {
        simulator.fleet.addDevice();
        added++;
      }
    }, 1);
    const report = await scan(m).finally(() => clearInterval(timer));
    expect(added).toBeGreaterThanOrEqual(2);
    // Each device queried once: as many queries as distinct devices in the fleet.
    const ids = [...m.fleet.ids()];
    expect(report.summary.devices.total).toBe(ids.length);
    for (let i = 1; i <= 650; i++) expect(ids).toContain(deviceId(simulator.fleet.device(i)!));
    expect(report.summary.devices.failed).toBe(0);
  });

  it('reports a failed or partial scan, without crashing, when Redis dies mid-scan', async () => {
    const redis = await startRedis();
    try {
      await simulator.close();
      simulator = await startSimulator({ devices: 120, seed: 5, latencyMs: 20 });
      const m = monitor(monitorConfig(simulator, { redisUrl: redis.url, yaml: '' }));
      const killing = (async () => {
        while (simulator.stats.listRequests < 30) await new Promise((r) => setImmediate(r));
        await redis.kill();
      })();
      const report = await scan(m);
      await killing;
      expect(['failure', 'partial']).toContain(report.summary.result);
      expect(report.summary.devices.failed).toBeGreaterThan(0);
      expect(report.deviceProblems.filter((o) => o.query === 'error').every((o) => o.reason === 'store_error')).toBe(true);
      await redis.restart();
      const recovered = createStore(m.config, { clock: systemClock, log: silentLogger });
      await expect(recovered.ping()).resolves.toBeUndefined();
      await recovered.close();
    } finally {
      await redis.stop();
    }
  });
});
