import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/index.js';
import { deviceId } from '../../src/domain/device-id.js';
import { decodeSnapshotEntry } from '../../src/state/codec.js';
import { storeKeys } from '../../src/state/redis-store.js';
import { cleanupAfterEach } from '../support/cleanup.js';
import { startAlertmanager } from '../support/alertmanager.js';
import { runCli, writeConfig } from '../support/cli.js';
import { sample, startDaemon, type TestDaemon } from '../support/daemon.js';
import { storedEvents, waitForAlerts } from '../support/fault-observers.js';
import { devicePicker, healthy } from '../support/monitor.js';
import { redisCommand, startRedis, type RedisServer } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

/** The daemon's Redis deadline: /readyz must answer 503 within a small multiple of it. */
const COMMAND_TIMEOUT_MS = 500;

const { defer, simulator } = cleanupAfterEach();

async function redis(persistent: boolean): Promise<RedisServer> {
  const started = await startRedis({ persistent });
  defer(() => started.stop());
  return started;
}

async function daemon(sim: Simulator, redisUrl: string, keyPrefix: string, extra = ''): Promise<TestDaemon> {
  const started = await startDaemon(`
enos: { baseUrl: "${sim.url}", appKey: demo-app-key, appSecret: demo-app-secret, maxRequestsPerSecond: 0, concurrency: 4,
        maxAttempts: 2, retryBaseDelayMs: 1, retryMaxDelayMs: 5 }
inventory: { discover: [{ orgId: demo-org }] }
schedule: { cron: "* * * * * *", runOnStart: true }
store: { redisUrl: "${redisUrl}", keyPrefix: "${keyPrefix}", commandTimeoutMs: ${COMMAND_TIMEOUT_MS}, leaderLeaseSeconds: 2 }
log: { level: info }
${extra}
`);
  defer(() => started.kill());
  return started;
}

const successes = (body: string) => sample(body, 'enos_scans_total', { result: 'success' });
const changes = (body: string) => sample(body, 'enos_certificate_changes_total');

/** Raw commands on a fresh connection: they work on either side of a Redis restart. */
async function hlen(server: RedisServer, key: string): Promise<number> {
  return Number(await redisCommand(server.port, 'HLEN', key));
}

/** /readyz answers 503 while Redis is gone, and does so promptly, not after a hang; /healthz stays 200. */
async function expectNotReadyPromptly(d: TestDaemon): Promise<void> {
  await waitFor(async () => (await d.get('/readyz')).status === 503, { timeoutMs: 5_000, what: '/readyz 503' });
  const askedAt = Date.now();
  expect((await d.get('/readyz')).status).toBe(503);
  expect(Date.now() - askedAt).toBeLessThan(4 * COMMAND_TIMEOUT_MS);
  expect((await d.get('/healthz')).status).toBe(200);
  expect(sample(await d.metrics(), 'enos_store_up')).toBe(0);
}

describe('the daemon when Redis fails', () => {
  it('survives Redis killed mid-scan; once it is back, records each real change once and nothing else', async () => {
    const sim = await simulator({ devices: 60, seed: 21, latencyMs: 15 });
    const server = await redis(true);
    const keyPrefix = `faults-${randomUUID()}:`;
    const keys = storeKeys(keyPrefix);
    const d = await daemon(sim, server.url, keyPrefix);
    await d.waitForMetrics((body) => successes(body) >= 1, 'the baseline scan');
    expect(await hlen(server, keys.snapshots)).toBe(60);

    const target = devicePicker(sim, Date.now())(healthy);
    sim.fleet.revoke(target.ref, String(target.cert!.certSN));
    // Mid-scan: the daemon has requests in flight at the simulator.
    await waitFor(() => sim.stats.inFlight > 0, { timeoutMs: 5_000, intervalMs: 1, what: 'a scan in flight' });
    await server.kill();
    // The metric follows the store by itself, without readiness probes.
    await d.waitForMetrics((body) => sample(body, 'enos_store_up') === 0, 'enos_store_up 0', 10_000);
    await expectNotReadyPromptly(d);

    await server.restart();
    await waitFor(async () => (await d.get('/readyz')).status === 200, { timeoutMs: 10_000, what: '/readyz 200 again' });
    const resumed = successes(await d.metrics());
    const after = await d.waitForMetrics((body) => successes(body) >= resumed + 2, 'two scans after the restart');

    expect(d.cli.process.exitCode).toBeNull();
    expect(await storedEvents(server, keys.events)).toEqual([`revoked:${String(target.cert!.certSN)}`]);
    expect(changes(after)).toBe(1);
    expect(sample(after, 'enos_store_up')).toBe(1);
  });

  it('takes a Redis restarted empty as a fresh baseline: no change events, the same alerts, the state written back', async () => {
    const sim = await simulator({ devices: 30, seed: 22 });
    const server = await redis(false);
    const am = await startAlertmanager();
    defer(() => am.stop());
    const run = randomUUID();
    const keyPrefix = `faults-${run}:`;
    const keys = storeKeys(keyPrefix);
    const d = await daemon(
      sim,
      server.url,
      keyPrefix,
      `alertmanager: { urls: ["${am.url}"], resendIntervalSeconds: 1, labels: { run: "${run}" } }`,
    );
    const firing = (body: string) => sample(body, 'enos_alerts_firing');
    const before = await d.waitForMetrics((body) => successes(body) >= 1 && firing(body) > 0, 'a scan with alerts');
    const alertsBefore = await waitForAlerts(am, run, firing(before));
    const trackedBefore = await hlen(server, keys.alerts);
    expect(trackedBefore).toBeGreaterThan(0);

    await server.kill();
    const killedAt = d.cli.logs().length;
    await expectNotReadyPromptly(d);
    await server.restart();
    const restarted = successes(await d.metrics());
    const after = await d.waitForMetrics((body) => successes(body) >= restarted + 2, 'two scans on the empty Redis');

    expect(await hlen(server, keys.snapshots)).toBe(30);
    expect(await storedEvents(server, keys.events)).toEqual([]);
    expect(changes(after)).toBe(0);
    expect(firing(after)).toBe(firing(before));
    await waitFor(async () => (await hlen(server, keys.alerts)) === trackedBefore, {
      timeoutMs: 5_000,
      what: 'the alert state to be written back to the empty Redis',
    });
    // No alert started again: Alertmanager holds exactly the alerts it held, each since the same moment.
    expect(d.cli.logs().slice(killedAt).filter((line) => line.msg === 'alerts evaluated' && line.started !== 0)).toEqual([]);
    expect(await waitForAlerts(am, run, firing(before))).toEqual(alertsBefore);
  });
});

describe('the daemon stopped mid-scan', () => {
  it('exits 0 within 10 s of SIGTERM, with only complete snapshots stored, and the next scan sees no change', async () => {
    // 300 devices, 30 ms each, 4 at a time: over 2 s, and nothing is stored before the first 256 answers.
    const sim = await simulator({ devices: 300, seed: 23, latencyMs: 30 });
    const server = await redis(false);
    const keyPrefix = `faults-${randomUUID()}:`;
    const keys = storeKeys(keyPrefix);
    const store = `store: { redisUrl: "${server.url}", keyPrefix: "${keyPrefix}" }`;
    const d = await startDaemon(`
enos: { baseUrl: "${sim.url}", appKey: demo-app-key, appSecret: demo-app-secret, maxRequestsPerSecond: 0, concurrency: 4 }
inventory: { discover: [{ orgId: demo-org }] }
${store}
`);
    defer(() => d.kill());
    await waitFor(() => sim.stats.listRequests >= 100, { timeoutMs: 15_000, intervalMs: 5, what: 'a third of the scan' });
    const stoppedAt = Date.now();
    d.cli.process.kill('SIGTERM');
    expect((await d.cli.exited).code).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);

    // What was answered before the signal is stored, each snapshot whole: exactly the gateway's certificates.
    const flat = (await redisCommand(server.port, 'HGETALL', keys.snapshots)) as string[];
    const stored = new Map<string, string>();
    for (let i = 0; i < flat.length; i += 2) stored.set(flat[i]!, flat[i + 1]!);
    expect(stored.size).toBeGreaterThan(0);
    expect(stored.size).toBeLessThan(300);
    for (const device of sim.fleet.devices()) {
      const raw = stored.get(deviceId(device));
      if (raw === undefined) continue;
      const { snapshot } = decodeSnapshotEntry(raw);
      const expected = (sim.fleet.certificates(device) ?? []).map((c) => [String(c.certSN), c.expireDate]);
      expect(snapshot.certificates.map((c) => [c.certSN, c.notAfter])).toEqual(expected);
    }
    expect(await storedEvents(server, keys.events)).toEqual([]);

    const next = await runCli(['scan', '-c', writeConfig(`
enos: { baseUrl: "${sim.url}", appKey: demo-app-key, appSecret: demo-app-secret, maxRequestsPerSecond: 0, concurrency: 16 }
inventory: { discover: [{ orgId: demo-org }] }
${store}
`), '--format', 'json']);
    const report = JSON.parse(next.stdout) as { devices: { ok: number }; changes: unknown[] };
    expect(report.devices.ok).toBe(300);
    expect(report.changes).toEqual([]);
    expect(await hlen(server, keys.snapshots)).toBe(300);
  });
});
