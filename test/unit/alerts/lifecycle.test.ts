import { beforeEach, describe, expect, it } from 'vitest';
import type { AlertSink, PostableAlert } from '../../../src/alerts/sink.js';
import { STATE_MARKER_KEY } from '../../../src/alerts/alert-state.js';
import { AlertLifecycle, revokedHoldRecords, type ScanVerdict } from '../../../src/alerts/lifecycle.js';
import type { Certificate, ChangeEvent, DeviceRef } from '../../../src/domain/types.js';
import { FleetView } from '../../../src/state/fleet-view.js';
import { MemoryStore } from '../../../src/state/memory-store.js';
import type { Fence, Store } from '../../../src/state/store.js';
import { manualClock } from '../../../src/util/clock.js';
import { silentLogger } from '../../../src/util/log.js';
import { BY_ASSET, BY_KEYS, cert, NOW, record, THRESHOLDS } from './fixtures.js';
import { revokedEvent } from '../../support/store-fixtures.js';
import { writerFence } from '../scan/fakes.js';

const MINUTE = 60_000;
const DAY_HALF = 12 * 60 * MINUTE;
const RESEND_SECONDS = 60;
const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/** A scan that heard from its devices and read the whole inventory. */
const scanned = (events: ChangeEvent[] = []): ScanVerdict => ({ events, answered: true, inventoryComplete: true });

/** Remembers every send; `last` is the latest version of each alert by alertname/cert_sn. */
class RecordingSink implements AlertSink {
  readonly sends: PostableAlert[][] = [];
  flushed = 0;

  send(alerts: readonly PostableAlert[]): void {
    this.sends.push([...alerts]);
  }

  async flush(): Promise<boolean> {
    this.flushed += 1;
    return true;
  }

  lastSend(): Map<string, PostableAlert> {
    return new Map((this.sends.at(-1) ?? []).map((alert) => [`${alert.labels.alertname}/${alert.labels.cert_sn}`, alert]));
  }
}

describe('AlertLifecycle', () => {
  let clock: ReturnType<typeof manualClock>;
  let store: Store;
  let fleet: FleetView;
  let sink: RecordingSink;

  const lifecycle = (revokedHoldHours = 24): AlertLifecycle =>
    new AlertLifecycle({
      store,
      fleet,
      sink,
      clock,
      log: silentLogger,
      alertmanager: { resendIntervalSeconds: RESEND_SECONDS, labels: { cluster: 'prod' }, revokedHoldHours },
      thresholds: THRESHOLDS,
    });
  const setCerts = (device: DeviceRef, certificates: Certificate[]): void => fleet.set(record(device, certificates));
  let fence: Fence;

  beforeEach(async () => {
    clock = manualClock(NOW);
    store = new MemoryStore({ historyMaxLength: 100, clock });
    fleet = new FleetView();
    sink = new RecordingSink();
    fence = await writerFence(store, 'leader');
  });

  it('starts a new alert now and sends it with endsAt four resend intervals ahead', async () => {
    setCerts(BY_ASSET, [cert('1', 20)]);
    const alerts = lifecycle();
    await alerts.init();
    await alerts.afterScan(scanned(), fence);
    expect(sink.sends).toEqual([
      [
        expect.objectContaining({
          labels: {
            alertname: 'EnosCertificateExpiring',
            severity: 'warning',
            org_id: 'o1',
            asset_id: 'a1',
            cert_sn: '1',
            cluster: 'prod',
          },
          startsAt: iso(NOW),
          endsAt: iso(NOW + 4 * RESEND_SECONDS * 1000),
        }),
      ],
    ]);
  });

  it('keeps startsAt across evaluations and across a new lifecycle on the same store', async () => {
    setCerts(BY_ASSET, [cert('1', 20)]);
    const first = lifecycle();
    await first.init();
    await first.afterScan(scanned(), fence);
    clock.advance(60 * MINUTE);
    await first.afterScan(scanned(), fence);
    expect(sink.lastSend().get('EnosCertificateExpiring/1')?.startsAt).toBe(iso(NOW));

    clock.advance(60 * MINUTE);
    const restarted = lifecycle();
    await restarted.init();
    await restarted.afterScan(scanned(), fence);
    expect(sink.lastSend().get('EnosCertificateExpiring/1')).toMatchObject({
      startsAt: iso(NOW),
      endsAt: iso(clock.now() + 4 * RESEND_SECONDS * 1000),
    });
  });

  it('resolves a cleared alert with endsAt = now, re-sends it for 15 minutes, then drops it', async () => {
    setCerts(BY_ASSET, [cert('1', 20)]);
    const alerts = lifecycle();
    await alerts.init();
    await alerts.afterScan(scanned(), fence);
    clock.advance(MINUTE);
    const resolvedAt = clock.now();
    setCerts(BY_ASSET, [cert('1', 20), cert('2', 365)]); // renewed
    await alerts.afterScan(scanned(), fence);
    expect(sink.lastSend().get('EnosCertificateExpiring/1')).toMatchObject({ startsAt: iso(NOW), endsAt: iso(resolvedAt) });
    expect(alerts.firing().find((kind) => kind.alertname === 'EnosCertificateExpiring' && kind.severity === 'warning')?.count).toBe(0);

    clock.advance(14 * MINUTE);
    await alerts.resend(fence);
    expect(sink.lastSend().get('EnosCertificateExpiring/1')?.endsAt).toBe(iso(resolvedAt));

    clock.advance(MINUTE);
    await alerts.resend(fence);
    expect(sink.sends.length).toBe(3); // nothing left to send: no new send
    expect([...(await store.readAlertState()).keys()]).toEqual([STATE_MARKER_KEY]);
  });

  it('resolves the warning alert and starts a critical one when a certificate crosses criticalDays', async () => {
    setCerts(BY_ASSET, [cert('1', 7.5)]);
    const alerts = lifecycle();
    await alerts.afterScan(scanned(), fence);
    clock.advance(DAY_HALF);
    await alerts.afterScan(scanned(), fence);
    const sent = sink.sends.at(-1)!;
    expect(sent.map((alert) => [alert.labels.severity, alert.endsAt])).toEqual([
      ['warning', iso(clock.now())],
      ['critical', iso(clock.now() + 4 * RESEND_SECONDS * 1000)],
    ]);
  });

  it('re-sends firing alerts between scans with a fresh endsAt', async () => {
    setCerts(BY_KEYS, [cert('1', -1)]);
    const alerts = lifecycle();
    await alerts.afterScan(scanned(), fence);
    clock.advance(MINUTE);
    await alerts.resend(fence);
    expect(sink.lastSend().get('EnosCertificateExpired/1')).toMatchObject({
      startsAt: iso(NOW),
      endsAt: iso(NOW + MINUTE + 4 * RESEND_SECONDS * 1000),
    });
  });

  it('raises the revoked alert from the event time and resolves it when the hold ends, in resend', async () => {
    const revokedAt = NOW - 10 * MINUTE;
    setCerts(BY_ASSET, [cert('1', 90, 'revoked')]);
    const alerts = lifecycle(1);
    await alerts.afterScan(scanned([revokedEvent(BY_ASSET, '1', revokedAt)]), fence);
    expect(sink.lastSend().get('EnosCertificateRevoked/1')).toMatchObject({
      startsAt: iso(revokedAt),
      annotations: expect.objectContaining({ revoker: 'IoT_Hub', revoker_reason: 'KEY COMPROMISE' }),
    });

    clock.advance(49 * MINUTE);
    await alerts.afterScan(scanned(), fence); // no event any more: the hold keeps it firing
    expect(sink.lastSend().get('EnosCertificateRevoked/1')?.endsAt).toBe(iso(clock.now() + 4 * RESEND_SECONDS * 1000));

    clock.advance(MINUTE);
    await alerts.resend(fence);
    expect(sink.lastSend().get('EnosCertificateRevoked/1')?.endsAt).toBe(iso(clock.now()));
    expect(alerts.firing().find((kind) => kind.alertname === 'EnosCertificateRevoked')?.count).toBe(0);
  });

  it('keeps revoked holds across a restart', async () => {
    setCerts(BY_ASSET, [cert('1', 90, 'revoked')]);
    await lifecycle().afterScan(scanned([revokedEvent(BY_ASSET, '1', NOW)]), fence);
    clock.advance(MINUTE);
    const restarted = lifecycle();
    await restarted.init();
    await restarted.afterScan(scanned(), fence);
    expect(sink.lastSend().get('EnosCertificateRevoked/1')).toMatchObject({ startsAt: iso(NOW), endsAt: iso(NOW + 5 * MINUTE) });
  });

  it('counts firing alerts by alertname and severity, zeros included', async () => {
    setCerts(BY_ASSET, [cert('1', 20), cert('2', 3)]);
    setCerts(BY_KEYS, [cert('3', 3), cert('4', -1)]);
    const alerts = lifecycle();
    await alerts.afterScan(scanned(), fence);
    expect(alerts.firing()).toEqual([
      { alertname: 'EnosCertificateExpiring', severity: 'warning', count: 1 },
      { alertname: 'EnosCertificateExpiring', severity: 'critical', count: 2 },
      { alertname: 'EnosCertificateExpired', severity: 'critical', count: 1 },
      { alertname: 'EnosCertificateRevoked', severity: 'warning', count: 0 },
    ]);
  });

  it('writes only what changed (and the marker), in one write per scan', async () => {
    const writes: number[] = [];
    const write = store.writeAlertState.bind(store);
    store.writeAlertState = async (set, remove, writeFence, markerKey) => {
      writes.push(set.size + remove.length);
      return write(set, remove, writeFence, markerKey);
    };
    setCerts(BY_ASSET, [cert('1', 20), cert('2', 3)]);
    const alerts = lifecycle();
    await alerts.afterScan(scanned(), fence);
    await alerts.afterScan(scanned(), fence);
    setCerts(BY_ASSET, [cert('2', 3)]);
    await alerts.afterScan(scanned(), fence);
    // Every write carries the state marker (how a store that lost its data is noticed).
    expect(writes).toEqual([3, 1, 2]);
  });

  it('still sends when the store is down, and does not overwrite the stored state', async () => {
    setCerts(BY_ASSET, [cert('1', 20)]);
    await lifecycle().afterScan(scanned(), fence);
    const stored = await store.readAlertState();
    store.readAlertState = () => Promise.reject(new Error('down'));
    store.writeAlertState = () => Promise.reject(new Error('down'));
    clock.advance(MINUTE);
    const restarted = lifecycle();
    await expect(restarted.init()).rejects.toThrow('down');
    await restarted.afterScan(scanned(), fence);
    expect(sink.lastSend().get('EnosCertificateExpiring/1')?.startsAt).toBe(iso(clock.now()));
    delete (store as Partial<Store>).readAlertState; // back to the MemoryStore method
    expect(await store.readAlertState()).toEqual(stored);
  });

  describe('when the store loses its data (a Redis restarted empty)', () => {
    const wipe = async (): Promise<void> => {
      await store.writeAlertState(new Map(), [...(await store.readAlertState()).keys()], fence, 'none');
    };

    beforeEach(() => {
      setCerts(BY_ASSET, [cert('1', 20)]);
      setCerts(BY_KEYS, [cert('2', 90, 'revoked')]);
    });

    it('writes the tracked state back at the next scan', async () => {
      const alerts = lifecycle();
      await alerts.afterScan(scanned([revokedEvent(BY_KEYS, '2', NOW)]), fence);
      const stored = await store.readAlertState();
      await wipe();
      await alerts.afterScan(scanned(), fence);
      expect(await store.readAlertState()).toEqual(stored);
    });

    it('keeps startsAt and the revoked holds when it loads again (leadership regained)', async () => {
      const alerts = lifecycle();
      await alerts.afterScan(scanned([revokedEvent(BY_KEYS, '2', NOW)]), fence);
      await wipe();
      clock.advance(MINUTE);
      await alerts.init();
      await alerts.resend(fence);
      expect([...sink.lastSend().values()].map((alert) => [alert.labels.alertname, alert.startsAt])).toEqual([
        ['EnosCertificateExpiring', iso(NOW)],
        ['EnosCertificateRevoked', iso(NOW)],
      ]);
      expect((await store.readAlertState()).size).toBe(4); // marker, two alerts, one hold
    });

    it('still takes the stored state when another instance changed it', async () => {
      const alerts = lifecycle();
      await alerts.afterScan(scanned(), fence);
      setCerts(BY_ASSET, [cert('1', 20), cert('3', 365)]); // renewed: the other instance resolves the alert
      await lifecycle().afterScan(scanned(), fence);
      await alerts.init();
      expect(alerts.firing().reduce((sum, kind) => sum + kind.count, 0)).toBe(0);
    });
  });

  describe('with other writers and faults', () => {
    const revokedSent = () => sink.lastSend().get('EnosCertificateRevoked/2');

    it('fires a revoked alert from a hold that a commit stored, never having seen the event', async () => {
      setCerts(BY_KEYS, [cert('2', 90, 'revoked')]);
      const alerts = lifecycle();
      await alerts.init();
      // The commit of another process (that then died) stored the event's hold with the snapshot.
      const records = revokedHoldRecords([revokedEvent(BY_KEYS, '2', NOW)], [cert('2', 90, 'revoked')]);
      await store.commit([{ id: 'o1/pk/dk', expectedVersion: 0, snapshot: { device: BY_KEYS, certificates: [], queriedAt: NOW }, events: [], alertRecords: records }], fence);
      clock.advance(MINUTE);
      await alerts.afterScan(scanned(), fence);
      expect(revokedSent()).toMatchObject({ startsAt: iso(NOW) });
      expect([...(await store.readAlertState()).keys()]).toEqual(expect.arrayContaining([...records.keys()]));
    });

    it("never removes another writer's records: a write sets and removes only its own", async () => {
      setCerts(BY_ASSET, [cert('1', 20)]);
      const alerts = lifecycle();
      await alerts.init();
      await alerts.afterScan(scanned(), fence);
      const others = revokedHoldRecords([revokedEvent(BY_KEYS, '2', NOW)], []);
      await store.writeAlertState(others, [], fence, STATE_MARKER_KEY);
      setCerts(BY_ASSET, [cert('1', 20), cert('3', 365)]);
      clock.advance(MINUTE);
      await alerts.resend(fence);
      await alerts.afterScan(scanned(), fence);
      const stored = await store.readAlertState();
      for (const [key, record] of others) expect(stored.get(key)).toBe(record);
    });

    it('keeps a hold whose write failed when it loads again on regaining leadership, and writes it then', async () => {
      setCerts(BY_KEYS, [cert('2', 90, 'revoked')]);
      const alerts = lifecycle();
      await alerts.init();
      const write = store.writeAlertState.bind(store);
      store.writeAlertState = () => Promise.reject(new Error('down'));
      await alerts.afterScan(scanned([revokedEvent(BY_KEYS, '2', NOW)]), fence);
      store.writeAlertState = write;
      await alerts.init();
      clock.advance(MINUTE);
      await alerts.resend(fence);
      expect(revokedSent()).toMatchObject({ startsAt: iso(NOW) });
      expect([...(await store.readAlertState()).keys()].filter((key) => key.startsWith('hold:'))).toHaveLength(1);
    });

    it('resolves nothing after a scan that heard from no device: alerts keep firing on the last known state', async () => {
      setCerts(BY_ASSET, [cert('1', 20)]);
      const alerts = lifecycle();
      await alerts.init();
      await alerts.afterScan(scanned(), fence);
      // A one-shot scan whose gateway is unreachable knows no device at all.
      fleet.delete('o1/a1');
      clock.advance(MINUTE);
      await alerts.afterScan({ events: [], answered: false, inventoryComplete: false }, fence);
      expect(sink.lastSend().get('EnosCertificateExpiring/1')).toMatchObject({
        startsAt: iso(NOW),
        endsAt: iso(clock.now() + 4 * RESEND_SECONDS * 1000),
      });
      await alerts.afterScan({ events: [], answered: true, inventoryComplete: false }, fence);
      expect(sink.lastSend().get('EnosCertificateExpiring/1')?.endsAt).not.toBe(iso(clock.now()));
      await alerts.afterScan(scanned(), fence);
      expect(sink.lastSend().get('EnosCertificateExpiring/1')?.endsAt).toBe(iso(clock.now()));
    });

    it('writes nothing under a fence that lost the lease, and only sends without one', async () => {
      setCerts(BY_ASSET, [cert('1', 20)]);
      const alerts = lifecycle();
      await alerts.init();
      await store.releaseLease(fence);
      await writerFence(store, 'other');
      await alerts.afterScan(scanned(), fence);
      await alerts.resend(undefined);
      expect(await store.readAlertState()).toEqual(new Map());
      expect(sink.sends).toHaveLength(2);
    });

    it('writes the state back at the next resend when the store lost it between scans', async () => {
      setCerts(BY_KEYS, [cert('2', 90, 'revoked')]);
      const alerts = lifecycle();
      await alerts.init();
      await alerts.afterScan(scanned([revokedEvent(BY_KEYS, '2', NOW)]), fence);
      const stored = await store.readAlertState();
      await store.writeAlertState(new Map(), [...stored.keys()], fence, 'none');
      await alerts.resend(fence);
      expect(await store.readAlertState()).toEqual(stored);
    });

    it('never sends endsAt before startsAt, whatever the clock of the replica that started the alert', async () => {
      setCerts(BY_ASSET, [cert('1', 20)]);
      const ahead = lifecycle();
      clock.advance(10 * MINUTE); // the other replica's clock runs ten minutes ahead
      await ahead.init();
      await ahead.afterScan(scanned(), fence);
      clock.advance(-10 * MINUTE);
      const alerts = lifecycle();
      await alerts.init();
      setCerts(BY_ASSET, [cert('1', 20), cert('3', 365)]);
      await alerts.afterScan(scanned(), fence);
      const sent = sink.lastSend().get('EnosCertificateExpiring/1')!;
      expect(sent.startsAt).toBe(iso(NOW + 10 * MINUTE));
      expect(sent.endsAt).toBe(sent.startsAt);
    });
  });

  it('flush waits for a running operation and then for the sink', async () => {
    setCerts(BY_ASSET, [cert('1', 20)]);
    const alerts = lifecycle();
    const scan = alerts.afterScan(scanned(), fence);
    expect(await alerts.flush()).toBe(true);
    await scan;
    expect(sink.sends.length).toBe(1);
    expect(sink.flushed).toBe(1);
  });
});
