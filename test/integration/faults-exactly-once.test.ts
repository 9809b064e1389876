import { randomUUID } from 'node:crypto';
import { setTimeout as sampleInterval } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/index.js';
import { storeKeys } from '../../src/state/redis-store.js';
import { startAlertmanager, type AlertmanagerServer } from '../support/alertmanager.js';
import { cleanupAfterEach } from '../support/cleanup.js';
import { runCli, writeConfig } from '../support/cli.js';
import { sample, startDaemon, type TestDaemon } from '../support/daemon.js';
import { storedEvents, waitForAlerts } from '../support/fault-observers.js';
import { devicePicker, healthy } from '../support/monitor.js';
import { freePort } from '../support/ports.js';
import { redisCommand, startRedis, type RedisServer } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

/**
 * The exactly-once and nothing-lost promises under process and network faults: real daemons,
 * redis-server, Alertmanager and the simulator; the faults are SIGKILL, SIGSTOP, CLIENT PAUSE,
 * FLUSHALL, an unreachable gateway and a stopped Redis.
 */

const { defer, simulator } = cleanupAfterEach();
const EVERY_SECOND = '* * * * * *';
const NEVER_AGAIN = '0 0 1 1 *';

interface Setup {
  readonly sim: Simulator;
  readonly server: RedisServer;
  readonly am: AlertmanagerServer;
  readonly run: string;
  readonly keys: ReturnType<typeof storeKeys>;
  /** The config of every process of the test, with `overrides` replacing its defaults. */
  readonly yaml: (overrides?: { schedule?: string; leaseSeconds?: number; baseUrl?: string }) => string;
}

async function setup(simulatorOptions: Parameters<typeof simulator>[0], options: { persistent?: boolean; resendSeconds?: number } = {}): Promise<Setup> {
  const sim = await simulator(simulatorOptions);
  const server = await startRedis({ persistent: options.persistent ?? false });
  defer(() => server.stop());
  const am = await startAlertmanager();
  defer(() => am.stop());
  const run = randomUUID();
  const keyPrefix = `exactly-once-${run}:`;
  const yaml: Setup['yaml'] = (overrides = {}) => `
enos: { baseUrl: "${overrides.baseUrl ?? sim.url}", appKey: demo-app-key, appSecret: demo-app-secret, maxRequestsPerSecond: 0,
        concurrency: 4, maxAttempts: 2, retryBaseDelayMs: 1, retryMaxDelayMs: 5, requestTimeoutMs: 20000 }
inventory: { discover: [{ orgId: demo-org }] }
schedule: { cron: "${overrides.schedule ?? EVERY_SECOND}", runOnStart: true }
store: { redisUrl: "${server.url}", keyPrefix: "${keyPrefix}", commandTimeoutMs: 500, leaderLeaseSeconds: ${overrides.leaseSeconds ?? 2} }
alertmanager: { urls: ["${am.url}"], resendIntervalSeconds: ${options.resendSeconds ?? 1}, labels: { run: "${run}" } }
log: { level: info }
`;
  return { sim, server, am, run, keys: storeKeys(keyPrefix), yaml };
}

async function daemon(yaml: string): Promise<TestDaemon> {
  const started = await startDaemon(yaml);
  defer(() => started.kill());
  return started;
}

const successes = (body: string) => sample(body, 'enos_scans_total', { result: 'success' });
const isLeader = (body: string) => sample(body, 'enos_scanner_leader') === 1;

async function revokedAlerts(am: AlertmanagerServer, run: string) {
  return (await am.alerts()).filter((alert) => alert.labels.run === run && alert.labels.alertname === 'EnosCertificateRevoked');
}

/** The first revoked alert of this run Alertmanager holds, once it holds one. */
async function firstRevokedAlert(am: AlertmanagerServer, run: string, timeoutMs: number, what: string) {
  const [alert] = await waitFor(async () => {
    const found = await revokedAlerts(am, run);
    return found.length > 0 ? found : undefined;
  }, { timeoutMs, what });
  return alert;
}

/** Waits until `d` finished two more successful scans than it had now. */
async function twoMoreScans(d: TestDaemon, what: string): Promise<void> {
  const scans = successes(await d.metrics());
  await d.waitForMetrics((body) => successes(body) >= scans + 2, what, 30_000);
}

/** A one-shot scan stores the baseline (and gives the lease back), so the daemons' first scan already diffs. */
async function storeBaseline(yaml: string): Promise<void> {
  const result = await runCli(['scan', '-c', writeConfig(yaml), '--format', 'json']);
  expect(result.code, result.stderr).toBe(0);
}

/** A healthy device among the first queried (discovery lists the newest first). */
function newestHealthy(sim: Simulator): ReturnType<ReturnType<typeof devicePicker>> {
  for (let index = sim.fleet.size; index >= 1; index--) {
    const device = sim.fleet.device(index)!;
    const ref = { orgId: device.orgId, assetId: device.assetId };
    const cert = healthy(sim.fleet.certificates(ref) ?? [], Date.now());
    if (cert !== undefined) return { ref, cert };
  }
  throw new Error('no healthy device');
}

/** Signals a process; SIGCONT is sent on cleanup so that a stopped process can be killed and reaped. */
function signal(d: TestDaemon, name: 'SIGSTOP' | 'SIGCONT'): void {
  d.cli.process.kill(name);
  if (name === 'SIGSTOP') defer(() => void d.cli.process.kill('SIGCONT'));
}

describe('exactly once and nothing lost, under faults', () => {
  it('raises the revoked alert after the leader is SIGKILLed between storing the revocation and alerting', async () => {
    // 300 devices, discovered newest first: the first 256 answers are committed while the scan
    // goes on; the last device queried (the oldest) hangs.
    const { sim, server, am, run, keys, yaml } = await setup({ devices: 300, seed: 31 });
    await storeBaseline(yaml());
    const target = newestHealthy(sim);
    const certSN = String(target.cert!.certSN);
    sim.faults.set(sim.fleet.device(1)!.assetId!, { kind: 'hang' });
    sim.fleet.revoke(target.ref, certSN);
    const a = await daemon(yaml());
    await waitFor(async () => (await storedEvents(server, keys.events)).length > 0, {
      timeoutMs: 30_000,
      intervalMs: 20,
      what: 'the revocation in the stream',
    });
    a.cli.process.kill('SIGKILL');
    await a.cli.exited;
    expect(await revokedAlerts(am, run)).toEqual([]); // killed before it could alert
    sim.faults.clear();

    const b = await daemon(yaml());
    const alert = await firstRevokedAlert(am, run, 20_000, 'the revoked alert from the restarted daemon');
    expect(alert?.labels.cert_sn).toBe(certSN);
    await twoMoreScans(b, 'two more scans');
    expect(await storedEvents(server, keys.events)).toEqual([`revoked:${certSN}`]);
  });

  it('refuses every write of a leader SIGSTOPped past its lease while another replica scanned a newer world', async () => {
    const { sim, server, keys, yaml } = await setup({ devices: 40, seed: 32 });
    await storeBaseline(yaml());
    const target = devicePicker(sim, Date.now())(healthy);
    // A's scan answers every device but the last at once; the last one answers 5 s later.
    sim.faults.set(sim.fleet.device(40)!.assetId!, { kind: 'slow', delayMs: 5_000, times: 1 });
    const requestsBefore = sim.stats.listRequests;
    const a = await daemon(yaml());
    await waitFor(() => sim.stats.listRequests >= requestsBefore + 40 && sim.stats.inFlight === 1, {
      timeoutMs: 20_000,
      intervalMs: 5,
      what: 'A to hold every answer but the slow one',
    });
    signal(a, 'SIGSTOP');
    const added = sim.fleet.addCertificate(target.ref);

    const b = await daemon(yaml());
    await b.waitForMetrics((body) => isLeader(body) && successes(body) >= 1, 'B to take over and scan the newer world', 30_000);
    expect(await storedEvents(server, keys.events)).toEqual([`added:${added}`]);
    const logsBeforeWaking = a.cli.logs().length;
    signal(a, 'SIGCONT');
    await waitFor(() => a.cli.logs().slice(logsBeforeWaking).some((line) => line.msg === 'scan finished'), {
      timeoutMs: 20_000,
      what: "A's stale scan to end",
    });
    await twoMoreScans(b, 'two more scans by B');

    expect(await storedEvents(server, keys.events)).toEqual([`added:${added}`]);
    const woke = a.cli.logs().slice(logsBeforeWaking);
    expect(woke.filter((line) => line.msg === 'alerts evaluated')).toEqual([]);
    expect(woke.some((line) => line.msg === 'the leader lease was lost during the scan: alerts are left to the new leader')).toBe(true);
    expect(isLeader(await a.metrics())).toBe(false);
  });

  it('records a revocation once and alerts on it when a commit times out (CLIENT PAUSE) but Redis still runs it', async () => {
    const { sim, server, am, run, keys, yaml } = await setup({ devices: 30, seed: 33 });
    // A long lease: the pause must time the commit out, not end the leadership.
    const config = yaml({ leaseSeconds: 10 });
    await storeBaseline(config);
    const target = devicePicker(sim, Date.now())(healthy);
    const certSN = String(target.cert!.certSN);
    sim.faults.set(sim.fleet.device(30)!.assetId!, { kind: 'slow', delayMs: 1_500, times: 1 });
    sim.fleet.revoke(target.ref, certSN);
    const requestsBefore = sim.stats.listRequests;
    const d = await daemon(config);
    // The first scan waits for the slow device; its one commit is sent while writes are paused.
    await waitFor(() => sim.stats.listRequests >= requestsBefore + 30 && sim.stats.inFlight === 1, {
      timeoutMs: 20_000,
      intervalMs: 5,
      what: 'only the slow device in flight',
    });
    await redisCommand(server.port, 'CLIENT', 'PAUSE', '3000', 'WRITE');

    const alert = await firstRevokedAlert(am, run, 30_000, 'the revoked alert');
    expect(alert?.labels.cert_sn).toBe(certSN);
    await twoMoreScans(d, 'two more scans');
    expect(await storedEvents(server, keys.events)).toEqual([`revoked:${certSN}`]);
    // The commit did time out: its devices failed with store_error in that scan.
    const failedScans = d.cli.logs().filter((line) => line.msg === 'scan finished' && (line.devices as { failed: number }).failed > 0);
    expect(failedScans.length).toBeGreaterThan(0);
  });

  it('writes the alert state back at the next resend after a FLUSHALL, so a failover before the next scan keeps startsAt', async () => {
    const { server, am, run, keys, yaml } = await setup({ devices: 30, seed: 34 });
    const config = yaml({ schedule: NEVER_AGAIN });
    const a = await daemon(config);
    const firing = (body: string) => sample(body, 'enos_alerts_firing');
    const before = await a.waitForMetrics((body) => successes(body) >= 1 && firing(body) > 0, 'a scan with alerts', 30_000);
    const alertsBefore = await waitForAlerts(am, run, firing(before));
    const tracked = Number(await redisCommand(server.port, 'HLEN', keys.alerts));

    await redisCommand(server.port, 'FLUSHALL');
    await waitFor(async () => Number(await redisCommand(server.port, 'HLEN', keys.alerts)) === tracked, {
      timeoutMs: 15_000,
      what: 'the alert state written back without a scan',
    });
    expect(successes(await a.metrics())).toBe(1);
    await a.kill();

    const b = await daemon(config);
    await b.waitForMetrics((body) => isLeader(body) && successes(body) >= 1, 'B to take over and scan', 30_000);
    expect(await waitForAlerts(am, run, firing(before))).toEqual(alertsBefore);
  });

  it('keeps alerts firing through a one-shot scan that reaches no gateway, and their startsAt after it', async () => {
    const { am, run, yaml } = await setup({ devices: 30, seed: 35 }, { resendSeconds: 3600 });
    const scan = (baseUrl?: string) => runCli(['scan', '-c', writeConfig(yaml(baseUrl !== undefined ? { baseUrl } : {})), '--format', 'json']);
    const first = await scan();
    expect(first.code, first.stderr).toBe(0);
    const count = (await am.alerts()).filter((alert) => alert.labels.run === run).length;
    expect(count).toBeGreaterThan(0);
    const before = await waitForAlerts(am, run, count);

    const unreachable = await scan(`http://127.0.0.1:${await freePort()}`);
    expect(unreachable.code).toBe(3);
    const during = (await am.alerts()).filter((alert) => alert.labels.run === run);
    expect(during).toHaveLength(count);
    for (const alert of during) expect(Date.parse(alert.endsAt)).toBeGreaterThan(Date.now() + 3_000_000);

    const again = await scan();
    expect(again.code, again.stderr).toBe(0);
    expect(await waitForAlerts(am, run, count)).toEqual(before);
  });

  it('leaves the lease to the replica holding it (exit 4, naming it); --read-only scans without writing', async () => {
    const { sim, server, keys, yaml } = await setup({ devices: 10, seed: 36 });
    const config = writeConfig(yaml());
    await storeBaseline(yaml());
    const target = devicePicker(sim, Date.now())(healthy);
    sim.fleet.revoke(target.ref, String(target.cert!.certSN));
    await redisCommand(server.port, 'SET', keys.leader, '99:replica-elsewhere', 'PX', '60000');

    const refused = await runCli(['scan', '-c', config]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('replica-elsewhere');
    expect(refused.stdout).toBe('');

    const readOnly = await runCli(['scan', '-c', config, '--read-only', '--format', 'json']);
    expect(readOnly.code, readOnly.stderr).toBe(0);
    const report = JSON.parse(readOnly.stdout) as { changes: Array<{ type: string }> };
    expect(report.changes.map((change) => change.type)).toEqual(['revoked']);
    expect(await storedEvents(server, keys.events)).toEqual([]);
    expect(await redisCommand(server.port, 'GET', keys.leader)).toBe('99:replica-elsewhere');
  });

  it('keeps every alert firing, with its startsAt, while Redis is down for 10 resend intervals', async () => {
    const { server, am, run, yaml } = await setup({ devices: 30, seed: 37 }, { persistent: true });
    const d = await daemon(yaml());
    const firing = (body: string) => sample(body, 'enos_alerts_firing');
    const before = await d.waitForMetrics((body) => successes(body) >= 1 && firing(body) > 0, 'a scan with alerts', 30_000);
    const count = firing(before);
    const alertsBefore = await waitForAlerts(am, run, count);

    await server.kill();
    // Watched for the whole outage (10 resend intervals, 2.5 times the 4 intervals a sent alert
    // lasts): every alert stays active in Alertmanager, none ends.
    const outageEnds = Date.now() + 10 * 1_000;
    while (Date.now() < outageEnds) {
      const active = (await am.alerts()).filter((alert) => alert.labels.run === run && alert.status.state === 'active');
      expect(active.map((alert) => alert.fingerprint).sort()).toEqual(Object.keys(alertsBefore));
      await sampleInterval(250);
    }
    await server.restart();
    await d.waitForMetrics((body) => isLeader(body), 'leadership back', 30_000);
    const scans = successes(await d.metrics());
    await d.waitForMetrics((body) => successes(body) >= scans + 1, 'a scan after the outage', 30_000);
    expect(await waitForAlerts(am, run, count)).toEqual(alertsBefore);
  });
});
