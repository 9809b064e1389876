import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { startCli, writeConfig, type RunningCli } from '../support/cli.js';
import { devicePicker, healthy } from '../support/monitor.js';
import { freePort } from '../support/ports.js';
import { waitFor } from '../support/wait.js';

let simulator: Simulator;
const daemons: RunningCli[] = [];

beforeAll(async () => {
  simulator = await startSimulator({ devices: 20, seed: 4 });
});

afterEach(async () => {
  for (const daemon of daemons.splice(0)) {
    daemon.process.kill('SIGKILL');
    await daemon.exited;
  }
});

afterAll(async () => {
  await simulator.close();
});

const LEASE_SECONDS = 2;

async function startDaemon(keyPrefix: string): Promise<{ daemon: RunningCli; metrics: () => Promise<string> }> {
  const port = await freePort();
  const path = writeConfig(`
enos: { baseUrl: "${simulator.url}", appKey: demo-app-key, appSecret: demo-app-secret, maxRequestsPerSecond: 0 }
inventory: { discover: [{ orgId: demo-org }] }
schedule: { cron: "* * * * * *", runOnStart: true }
store: { redisUrl: "${inject('redisUrl')}", keyPrefix: "${keyPrefix}", leaderLeaseSeconds: ${LEASE_SECONDS} }
server: { host: 127.0.0.1, port: ${port} }
log: { level: info }
`);
  const daemon = startCli(['run', '-c', path]);
  daemons.push(daemon);
  const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  await waitFor(() => metrics(), { timeoutMs: 15_000, what: 'the daemon to serve /metrics' });
  return { daemon, metrics };
}

function sample(body: string, series: string): number {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no sample ${series}`);
  return Number(line.slice(series.length + 1));
}

const leader = (body: string) => sample(body, 'enos_scanner_leader');
const scans = (body: string) => sample(body, 'enos_scans_total{result="success"}');

describe('two daemons on one Redis', () => {
  it('lets exactly one scan, serves stored certificates at once, and fails over within the lease time', async () => {
    const keyPrefix = `ha-${Date.now()}:`;
    const a = await startDaemon(keyPrefix);
    await waitFor(async () => leader(await a.metrics()) === 1 && scans(await a.metrics()) >= 1, {
      timeoutMs: 15_000,
      what: 'daemon A to lead and scan',
    });

    const b = await startDaemon(keyPrefix);
    // Warm start: B, the standby, never scans, yet serves the certificates A stored.
    const warm = await waitFor(
      async () => {
        const body = await b.metrics();
        return /^enos_certificate_not_after_timestamp_seconds\{org_id="demo-org"/m.test(body) ? body : undefined;
      },
      { timeoutMs: 5_000, what: 'stored certificates on the standby' },
    );
    expect(scans(warm)).toBe(0);

    const scansOfA = scans(await a.metrics());
    await waitFor(async () => scans(await a.metrics()) >= scansOfA + 2, { timeoutMs: 15_000, what: 'two more scans by A' });
    const standby = await b.metrics();
    expect(leader(standby)).toBe(0);
    expect(scans(standby)).toBe(0);

    // The standby follows what the leader stores.
    const target = devicePicker(simulator, Date.now())(healthy);
    simulator.fleet.revoke(target.ref, String(target.cert!.certSN));
    const revokedSeries = new RegExp(`^enos_certificate_info\\{[^}]*cert_sn="${String(target.cert!.certSN)}",status="revoked"`, 'm');
    await waitFor(async () => revokedSeries.test(await b.metrics()), { timeoutMs: 10_000, what: 'the standby to show the revocation' });
    expect(scans(await b.metrics())).toBe(0);

    a.daemon.process.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor(async () => leader(await b.metrics()) === 1, { timeoutMs: 10_000, what: 'daemon B to take over' });
    expect(Date.now() - killedAt).toBeLessThan(LEASE_SECONDS * 1000 + 2_000);
    await waitFor(async () => scans(await b.metrics()) >= 1, { timeoutMs: 10_000, what: 'daemon B to scan' });
  });

  it('hands the lease over at once on a graceful shutdown', async () => {
    const keyPrefix = `ha-graceful-${Date.now()}:`;
    const a = await startDaemon(keyPrefix);
    await waitFor(async () => leader(await a.metrics()) === 1, { timeoutMs: 15_000, what: 'daemon A to lead' });
    const b = await startDaemon(keyPrefix);
    expect(leader(await b.metrics())).toBe(0);
    a.daemon.process.kill('SIGTERM');
    expect((await a.daemon.exited).code).toBe(0);
    const stoppedAt = Date.now();
    await waitFor(async () => leader(await b.metrics()) === 1, { timeoutMs: 10_000, what: 'daemon B to take over' });
    // Released, not expired: B needs at most one renewal round (a third of the lease).
    expect(Date.now() - stoppedAt).toBeLessThan((LEASE_SECONDS * 1000) / 3 + 1_000);
  });

  it('a leader that loses the lease while stopped no longer reports alerts as firing', async () => {
    const keyPrefix = `ha-stopped-${Date.now()}:`;
    const firingTotal = (body: string) =>
      body
        .split('\n')
        .filter((line) => line.startsWith('enos_alerts_firing{'))
        .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    const a = await startDaemon(keyPrefix);
    await waitFor(async () => leader(await a.metrics()) === 1 && firingTotal(await a.metrics()) > 0, {
      timeoutMs: 15_000,
      what: 'daemon A to lead with firing alerts',
    });
    const b = await startDaemon(keyPrefix);
    a.daemon.process.kill('SIGSTOP');
    try {
      await waitFor(async () => leader(await b.metrics()) === 1, { timeoutMs: 10_000, what: 'daemon B to take over' });
    } finally {
      a.daemon.process.kill('SIGCONT');
    }
    const after = await waitFor(
      async () => {
        const body = await a.metrics();
        return leader(body) === 0 ? body : undefined;
      },
      { timeoutMs: 10_000, what: 'daemon A to notice it lost the lease' },
    );
    expect(firingTotal(after)).toBe(0);
    await waitFor(async () => firingTotal(await b.metrics()) > 0, { timeoutMs: 10_000, what: 'daemon B to report the alerts' });
  });
});
