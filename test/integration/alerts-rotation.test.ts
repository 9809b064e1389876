import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertmanagerClient } from '../../src/alerts/alertmanager-client.js';
import { AlertLifecycle } from '../../src/alerts/lifecycle.js';
import { DAY_MS } from '../../src/domain/certificate.js';
import { FleetView } from '../../src/state/fleet-view.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import { systemClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { startAlertmanager, type AlertmanagerServer } from '../support/alertmanager.js';
import { heldFence } from '../support/store-fixtures.js';
import { waitFor } from '../support/wait.js';

const FIRING = 1_200;
const CAPACITY = 50;
const RESEND_SECONDS = 1;

describe('more firing alerts than queueCapacity, against a real Alertmanager', () => {
  let am: AlertmanagerServer;
  let client: AlertmanagerClient;
  let lifecycle: AlertLifecycle;
  let store: MemoryStore;
  const outcomes = { success: 0, failure: 0, dropped: 0 };

  beforeAll(async () => {
    am = await startAlertmanager();
    client = new AlertmanagerClient({
      config: { urls: [am.url], timeoutMs: 5_000, maxAttempts: 3, batchSize: 500, queueCapacity: CAPACITY },
      log: silentLogger,
      observer: { notification: (outcome) => (outcomes[outcome] += 1), dropped: (count) => (outcomes.dropped += count) },
    });
    const fleet = new FleetView();
    for (let i = 0; i < FIRING; i++) {
      const device = { orgId: 'rotation', assetId: `asset-${i}` };
      const notAfter = Date.now() + (i % 2 === 0 ? 20 : 3) * DAY_MS;
      fleet.set({
        id: `rotation/asset-${i}`,
        device,
        query: 'ok',
        certificates: [
          { certSN: `sn-${i}`, status: 'valid', notBefore: null, notAfter, issuer: 'CN=CA', subject: `CN=${i}`, issueAuthority: 'RSA', revoker: '', revokerReason: '' },
        ],
      });
    }
    store = new MemoryStore({ historyMaxLength: 10, clock: systemClock });
    lifecycle = new AlertLifecycle({
      store,
      fleet,
      sink: client,
      clock: systemClock,
      log: silentLogger,
      alertmanager: { resendIntervalSeconds: RESEND_SECONDS, labels: {}, revokedHoldHours: 24 },
      thresholds: { warningDays: 30, criticalDays: 7 },
    });
  });

  afterAll(async () => {
    await client?.flush(1_000);
    await am?.stop();
  });

  it('delivers every one within a few resend intervals, and none expires while it keeps firing', async () => {
    const fence = heldFence(await store.acquireLease('rotation-test', 600_000));
    await lifecycle.init();
    await lifecycle.afterScan({ events: [], answered: true, inventoryComplete: true }, fence);
    const resends = setInterval(() => void lifecycle.resend(fence), RESEND_SECONDS * 1000);
    try {
      const startedAt = Date.now();
      await waitFor(async () => (await am.alerts()).length === FIRING, {
        timeoutMs: 4 * RESEND_SECONDS * 1000,
        intervalMs: 100,
        what: `${FIRING} alerts in Alertmanager`,
      });
      const deliveredWithinMs = Date.now() - startedAt;
      // Watch for twice the lifetime of a single send: an alert not re-sent in time would expire.
      const watchUntil = Date.now() + 8 * RESEND_SECONDS * 1000;
      while (Date.now() < watchUntil) {
        const active = await am.alerts();
        const observedAt = Date.now();
        expect(active.filter((alert) => alert.status.state === 'active')).toHaveLength(FIRING);
        expect(active.filter((alert) => Date.parse(alert.endsAt) <= observedAt)).toEqual([]);
        await sleep(250);
      }
      expect(deliveredWithinMs).toBeLessThan(4 * RESEND_SECONDS * 1000);
      expect(outcomes).toMatchObject({ failure: 0, dropped: 0 });
    } finally {
      clearInterval(resends);
    }
  });
});
