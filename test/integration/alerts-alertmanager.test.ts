import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AlertmanagerClient } from '../../src/alerts/alertmanager-client.js';
import type { AlertSink, PostableAlert } from '../../src/alerts/sink.js';
import { AlertLifecycle } from '../../src/alerts/lifecycle.js';
import { DAY_MS } from '../../src/domain/certificate.js';
import { deviceId } from '../../src/domain/device-id.js';
import type { Certificate, ChangeEvent, DeviceRef } from '../../src/domain/types.js';
import { FleetView } from '../../src/state/fleet-view.js';
import { RedisStore } from '../../src/state/redis-store.js';
import { systemClock, type Clock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { startAlertmanager, type AlertmanagerAlert, type AlertmanagerServer } from '../support/alertmanager.js';
import { waitFor } from '../support/wait.js';
import { heldFence, revokedEvent } from '../support/store-fixtures.js';

const redisUrl = inject('redisUrl');
const RESEND_SECONDS = 30;
const EXTRA_LABELS = { cluster: 'it' };

function certificate(certSN: string, days: number, status: Certificate['status'] = 'valid'): Certificate {
  return {
    certSN,
    status,
    notBefore: Date.now() - 300 * DAY_MS,
    notAfter: Date.now() + days * DAY_MS,
    issuer: 'CN=Test CA',
    subject: `CN=${certSN}`,
    issueAuthority: 'RSA',
    revoker: status === 'revoked' ? 'IoT_Hub' : '',
    revokerReason: status === 'revoked' ? 'KEY COMPROMISE' : '',
  };
}

/** Passes alerts on and remembers them, to see exactly what a lifecycle sent. */
class TeeSink implements AlertSink {
  readonly sent: PostableAlert[] = [];
  constructor(private readonly inner: AlertSink) {}
  send(alerts: readonly PostableAlert[]): void {
    this.sent.push(...alerts);
    this.inner.send(alerts);
  }
  flush(timeoutMs: number): Promise<boolean> {
    return this.inner.flush(timeoutMs);
  }
}

describe('alerts against two real Alertmanagers and Redis', () => {
  let first: AlertmanagerServer;
  let second: AlertmanagerServer;
  let client: AlertmanagerClient;
  const outcomes = { success: 0, failure: 0, dropped: 0 };
  const stores: RedisStore[] = [];

  /** A test's own org (so tests never see each other's alerts) and store prefix. */
  function setup(clock: Clock = systemClock, keyPrefix = `alerts-${randomUUID()}:`) {
    const orgId = `org-${randomUUID().slice(0, 8)}`;
    const fleet = new FleetView();
    const store = new RedisStore({ redisUrl, keyPrefix, historyMaxLength: 1_000, commandTimeoutMs: 2_000 }, { log: silentLogger });
    stores.push(store);
    const sink = new TeeSink(client);
    const lifecycle = new AlertLifecycle({
      store,
      fleet,
      sink,
      clock,
      log: silentLogger,
      alertmanager: { resendIntervalSeconds: RESEND_SECONDS, labels: EXTRA_LABELS, revokedHoldHours: 24 },
      thresholds: { warningDays: 30, criticalDays: 7 },
    });
    const put = (device: DeviceRef, certificates: Certificate[]): void =>
      fleet.set({ id: deviceId(device), device, query: 'ok', certificates });
    /** afterScan of a scan that heard from every device, under the test's lease. */
    const scanned = async (events: ChangeEvent[] = []): Promise<void> =>
      lifecycle.afterScan({ events, answered: true, inventoryComplete: true }, heldFence(await store.acquireLease('alerts-test', 600_000)));
    return { orgId, fleet, put, lifecycle, scanned, sink, keyPrefix };
  }

  const activeFor = async (am: AlertmanagerServer, orgId: string): Promise<AlertmanagerAlert[]> =>
    (await am.alerts()).filter((alert) => alert.labels.org_id === orgId);
  const labelsOf = (alerts: AlertmanagerAlert[]) =>
    alerts.map((alert) => alert.labels).sort((a, b) => (a.cert_sn ?? '').localeCompare(b.cert_sn ?? ''));

  beforeAll(async () => {
    [first, second] = await Promise.all([startAlertmanager(), startAlertmanager()]);
    client = new AlertmanagerClient({
      config: { urls: [second.url, first.url], timeoutMs: 2_000, maxAttempts: 3, batchSize: 100, queueCapacity: 1_000 },
      log: silentLogger,
      observer: {
        notification: (outcome) => (outcomes[outcome] += 1),
        dropped: (count) => (outcomes.dropped += count),
      },
      retryBaseDelayMs: 1_000,
    });
  });

  afterAll(async () => {
    await client?.flush(1_000);
    await Promise.all(stores.map((store) => store.close()));
    await Promise.all([first?.stop(), second?.stop()]);
  });

  it('pushes exactly the expected alerts, with exactly their labels, to both Alertmanagers', async () => {
    const { orgId, put, lifecycle, scanned } = setup();
    put({ orgId, assetId: 'warn' }, [certificate('w', 20)]);
    put({ orgId, productKey: 'p1', deviceKey: 'd1' }, [certificate('c', 3)]);
    put({ orgId, assetId: 'gone' }, [certificate('x', -1, 'expired')]);
    put({ orgId, assetId: 'ok' }, [certificate('h', 90)]);
    put({ orgId, assetId: 'renewed' }, [certificate('old', 10), certificate('new', 365)]);
    put({ orgId, assetId: 'baseline' }, [certificate('r', 90, 'revoked')]);
    await lifecycle.init();
    await scanned();

    const expected = [
      { alertname: 'EnosCertificateExpiring', severity: 'critical', org_id: orgId, product_key: 'p1', device_key: 'd1', cert_sn: 'c', cluster: 'it' },
      { alertname: 'EnosCertificateExpiring', severity: 'warning', org_id: orgId, asset_id: 'warn', cert_sn: 'w', cluster: 'it' },
      { alertname: 'EnosCertificateExpired', severity: 'critical', org_id: orgId, asset_id: 'gone', cert_sn: 'x', cluster: 'it' },
    ];
    for (const am of [first, second]) {
      const alerts = await waitFor(async () => {
        const found = await activeFor(am, orgId);
        return found.length >= expected.length ? found : undefined;
      });
      expect(labelsOf(alerts)).toEqual(expected);
      for (const alert of alerts) {
        // Four resend intervals from the post (a few ms after the hand-over): a few lost sends are survived.
        const lifetime = Date.parse(alert.endsAt) - Date.parse(alert.startsAt);
        expect(lifetime).toBeGreaterThanOrEqual(4 * RESEND_SECONDS * 1000);
        expect(lifetime).toBeLessThan(4 * RESEND_SECONDS * 1000 + 5_000);
        expect(alert.annotations).toMatchObject({ summary: expect.any(String), description: expect.any(String) });
        expect(alert.annotations.not_after).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      }
    }
    expect(lifecycle.firing().reduce((sum, kind) => sum + kind.count, 0)).toBe(3);
  });

  it('a renewal resolves the expiring alert on both', async () => {
    const { orgId, put, scanned } = setup();
    const device = { orgId, assetId: 'a1' };
    put(device, [certificate('old', 20)]);
    await scanned();
    for (const am of [first, second]) await waitFor(async () => (await activeFor(am, orgId)).length === 1);

    put(device, [certificate('old', 20), certificate('new', 365)]);
    await scanned();
    for (const am of [first, second]) {
      await waitFor(async () => (await activeFor(am, orgId)).length === 0, { what: 'the expiring alert to resolve' });
    }
  });

  it('a revocation raises the revoked alert on both', async () => {
    const { orgId, put, scanned } = setup();
    const device = { orgId, assetId: 'a1' };
    put(device, [certificate('sn', 200.5)]);
    await scanned();
    put(device, [certificate('sn', 200.5, 'revoked')]);
    await scanned([revokedEvent(device, 'sn')]);

    for (const am of [first, second]) {
      const [alert] = await waitFor(async () => {
        const found = await activeFor(am, orgId);
        return found.length > 0 ? found : undefined;
      });
      expect(alert?.labels).toEqual({
        alertname: 'EnosCertificateRevoked',
        severity: 'warning',
        org_id: orgId,
        asset_id: 'a1',
        cert_sn: 'sn',
        cluster: 'it',
      });
      expect(alert?.annotations).toMatchObject({ revoker: 'IoT_Hub', revoker_reason: 'KEY COMPROMISE', days_left: '200' });
    }
  });

  it('keeps startsAt across a restart on the same Redis store', async () => {
    const tenMinutesAgo: Clock = { now: () => Date.now() - 10 * 60_000 };
    const before = setup(tenMinutesAgo);
    before.put({ orgId: before.orgId, assetId: 'a1' }, [certificate('sn', 3)]);
    await before.scanned();
    const startedAt = before.sink.sent[0]?.startsAt;
    expect(startedAt).toBeDefined();

    const after = setup(systemClock, before.keyPrefix); // a new process: new store client, new lifecycle
    after.put({ orgId: before.orgId, assetId: 'a1' }, [certificate('sn', 3)]);
    await after.lifecycle.init();
    await after.scanned();
    expect(after.sink.sent.map((alert) => alert.startsAt)).toEqual([startedAt]);
    for (const am of [first, second]) {
      const [alert] = await waitFor(async () => {
        const found = await activeFor(am, before.orgId);
        return found.length > 0 ? found : undefined;
      });
      expect(Date.parse(alert!.startsAt)).toBe(Date.parse(startedAt!));
    }
  });

  it('delivers to one Alertmanager while the other is down, and counts the failure', async () => {
    await second.stop();
    Object.assign(outcomes, { success: 0, failure: 0, dropped: 0 });
    const { orgId, put, scanned } = setup();
    put({ orgId, assetId: 'a1' }, [certificate('sn', 3)]);
    await scanned(); // the stopped one is first in the URL list

    await waitFor(async () => (await activeFor(first, orgId)).length === 1, { what: 'delivery to the running Alertmanager' });
    expect(outcomes.failure).toBe(0); // still retrying the stopped one: it did not hold up the other
    await waitFor(() => outcomes.failure === 1, { timeoutMs: 10_000, what: 'the failure to be counted' });
    expect(outcomes.success).toBe(1);
  });
});
