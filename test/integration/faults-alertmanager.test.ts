import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { cleanupAfterEach } from '../support/cleanup.js';
import { startAlertmanager, type AlertmanagerServer } from '../support/alertmanager.js';
import { sample, startDaemon, type TestDaemon } from '../support/daemon.js';
import { freePort } from '../support/ports.js';
import { waitFor } from '../support/wait.js';

let simulator: Simulator;
const { defer } = cleanupAfterEach();

beforeAll(async () => {
  simulator = await startSimulator({ devices: 30, seed: 31 });
});

afterAll(async () => {
  await simulator.close();
});

/**
 * A daemon that scans once at start (the cron is yearly) and sends its alerts to an Alertmanager
 * that does not run yet, at a port reserved for it.
 */
async function daemonWithAlertmanagerDown(alertmanager: string): Promise<{ daemon: TestDaemon; port: number; run: string }> {
  const port = await freePort();
  const run = randomUUID();
  const daemon = await startDaemon(`
enos: { baseUrl: "${simulator.url}", appKey: demo-app-key, appSecret: demo-app-secret, maxRequestsPerSecond: 0 }
inventory: { discover: [{ orgId: demo-org }] }
schedule: { cron: "0 0 1 1 *", runOnStart: true }
alertmanager: { urls: ["http://127.0.0.1:${port}"], labels: { run: "${run}" }, timeoutMs: 1000, ${alertmanager} }
log: { level: info }
`);
  defer(() => daemon.kill());
  return { daemon, port, run };
}

async function alertmanagerOn(port: number): Promise<AlertmanagerServer> {
  const am = await startAlertmanager({ port });
  defer(() => am.stop());
  return am;
}

const firing = (body: string) => sample(body, 'enos_alerts_firing');
const notifications = (body: string, outcome: 'success' | 'failure') =>
  sample(body, 'enos_alertmanager_notifications_total', { outcome });
const dropped = (body: string) => sample(body, 'enos_alertmanager_alerts_dropped_total');

async function alertsOfRun(am: AlertmanagerServer, run: string, count: number): Promise<number> {
  return waitFor(
    async () => {
      const found = (await am.alerts()).filter((alert) => alert.labels.run === run).length;
      return found === count ? found : undefined;
    },
    { timeoutMs: 15_000, what: `${count} alerts in Alertmanager` },
  );
}

describe('the daemon when Alertmanager is down', () => {
  it('keeps the alerts queued and retried, and delivers all of them when it returns; nothing dropped', async () => {
    // No re-send within the test: what arrives comes from the queue. Retries at 0.5, 1.5, 3.5, 7.5, 15.5 s...
    const { daemon, port, run } = await daemonWithAlertmanagerDown('resendIntervalSeconds: 3600, maxAttempts: 8, queueCapacity: 1000');
    const body = await daemon.waitForMetrics((b) => firing(b) > 0, 'a scan with firing alerts');
    await waitFor(() => daemon.cli.logs().some((line) => line.msg === 'alert delivery failed, retrying'), {
      what: 'a failed delivery',
    });

    const am = await alertmanagerOn(port);
    expect(await alertsOfRun(am, run, firing(body))).toBe(firing(body));
    const after = await daemon.waitForMetrics((b) => notifications(b, 'success') === 1, 'the delivery to be counted');
    expect(notifications(after, 'failure')).toBe(0);
    expect(dropped(after)).toBe(0);
  });

  it('re-sends every firing alert once it is back after the retries gave up; stops within 10 s while it is down', async () => {
    const { daemon, port, run } = await daemonWithAlertmanagerDown('resendIntervalSeconds: 1, maxAttempts: 1');
    const body = await daemon.waitForMetrics((b) => notifications(b, 'failure') >= 1, 'a failed notification');

    const am = await alertmanagerOn(port);
    expect(await alertsOfRun(am, run, firing(body))).toBe(firing(body));
    await am.stop();

    const stoppedAt = Date.now();
    daemon.cli.process.kill('SIGTERM');
    expect((await daemon.cli.exited).code).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
  });
});
