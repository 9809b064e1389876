import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deviceId } from '../../src/domain/device-id.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { runCli, startCli, writeConfig } from '../support/cli.js';
import { devicePicker, healthy } from '../support/monitor.js';
import { freePort } from '../support/ports.js';
import { waitFor } from '../support/wait.js';

let simulator: Simulator;

beforeAll(async () => {
  simulator = await startSimulator({ devices: 30, seed: 11 });
});

afterAll(async () => {
  await simulator.close();
});

function config(extra = '', credentials = 'appKey: demo-app-key\n  appSecret: demo-app-secret'): string {
  return writeConfig(`
enos:
  baseUrl: ${simulator.url}
  ${credentials}
  maxRequestsPerSecond: 0
  retryBaseDelayMs: 1
  retryMaxDelayMs: 5
inventory:
  discover: [{ orgId: demo-org }]
log: { level: warn }
${extra}
`);
}

describe('scan', () => {
  it('prints the contract JSON report and exits 0', async () => {
    const result = await runCli(['scan', '-c', config(), '--format', 'json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['startedAt', 'finishedAt', 'devices', 'certificates', 'changes', 'errors']));
    expect(report.devices).toEqual({ total: 30, ok: 30, notFound: 0, failed: 0 });
    const certificates = report.certificates as Array<Record<string, unknown>>;
    const expectedCount = [...Array(30).keys()].reduce((n, i) => n + (simulator.fleet.certificates(simulator.fleet.device(i + 1)!)?.length ?? 0), 0);
    expect(certificates).toHaveLength(expectedCount);
    expect(Object.keys(certificates[0]!).sort()).toEqual(
      ['orgId', 'assetId', 'productKey', 'deviceKey', 'certSN', 'status', 'notBefore', 'notAfter', 'daysLeft', 'state', 'superseded', 'findings'].sort(),
    );
    expect(new Set(certificates.map((c) => c.state))).toEqual(new Set(['ok', 'warning', 'critical', 'expired', 'revoked']));
  });

  it('prints a table by default', async () => {
    const result = await runCli(['scan', '-c', config()]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^DEVICE\s+CERT SN\s+STATUS\s+STATE\s+NOT AFTER\s+DAYS LEFT\s+SUPERSEDED/);
    expect(result.stdout).toMatch(/scan success: 30 devices \(30 ok, 0 not found, 0 failed\)/);
  });

  it.each([
    ['warning', 'the simulated fleet has certificates in warning', 1],
    ['critical', 'and in critical/expired state', 1],
    ['never', 'never fails', 0],
  ])('--fail-on %s: %s → exit %i', async (level, _why, code) => {
    expect((await runCli(['scan', '-c', config(), '--fail-on', level])).code).toBe(code);
  });

  it('--fail-on critical exits 0 for a healthy device', async () => {
    const target = devicePicker(simulator, Date.now())((certs, now) =>
      certs.length === 1 && healthy(certs, now) ? certs[0] : undefined,
    );
    const path = writeConfig(`
enos: { baseUrl: "${simulator.url}", appKey: demo-app-key, appSecret: demo-app-secret }
inventory: { devices: [{ orgId: demo-org, assetId: ${target.ref.assetId} }] }
`);
    expect((await runCli(['scan', '-c', path, '--fail-on', 'warning'])).code).toBe(0);
  });

  it('exits 3 on wrong credentials, with a bounded number of token requests', async () => {
    const before = simulator.stats.tokenRequests;
    const result = await runCli(['scan', '-c', config('', 'appKey: demo-app-key\n  appSecret: wrong-secret'), '--format', 'json']);
    expect(result.code).toBe(3);
    expect(simulator.stats.tokenRequests - before).toBeLessThanOrEqual(2);
    expect(`${result.stdout}${result.stderr}`).not.toContain('wrong-secret');
    expect((JSON.parse(result.stdout) as { errors: Array<{ reason: string }> }).errors[0]?.reason).toBe('code_1003');
  });

  it.each([
    [['scan', '--format', 'xml'], '--format must be one of: table, json'],
    [['scan', '--bogus'], "Unknown option '--bogus'"],
    [['history', '--limit', '0'], '--limit must be a positive integer'],
    [['nonsense'], "unknown command 'nonsense'"],
  ])('exits 2 on bad usage: %j', async (args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('exits 2 with one line per problem on an invalid config', async () => {
    const path = writeConfig('enos: { baseUrl: "http://gw.example", appKey: k, appSecret: very-secret }\nthresholds: { criticalDays: 40 }\n');
    for (const command of ['scan', 'check-config', 'run', 'history']) {
      const result = await runCli([command, '-c', path]);
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split('\n')).toEqual([
        'enos.baseUrl: http is allowed only for loopback hosts; use https',
        'inventory: needs at least one of devices, files or discover',
        'thresholds.criticalDays: must be less than warningDays',
      ]);
      expect(result.stderr).not.toContain('very-secret');
    }
  });

  it('check-config prints the effective config with secrets masked, and finds -c through the environment', async () => {
    const result = await runCli(['check-config'], { ENOS_CERT_MONITOR_CONFIG: config() });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('appSecret: "***"');
    expect(result.stdout).toContain('warningDays: 30');
    expect(result.stdout).not.toContain('demo-app-secret');
  });
});

describe('history', () => {
  it('lists the changes recorded by scans, newest first, filtered by device', async () => {
    const store = `store: { redisUrl: "${inject('redisUrl')}", keyPrefix: "cli-history-${Date.now()}:" }`;
    const path = config(store);
    expect((await runCli(['scan', '-c', path])).code).toBe(0);
    const pick = devicePicker(simulator, Date.now());
    const [first, second] = [pick(healthy), pick(healthy)];
    simulator.fleet.revoke(first.ref, String(first.cert!.certSN));
    simulator.fleet.removeCertificate(second.ref, String(second.cert!.certSN));
    expect((await runCli(['scan', '-c', path])).code).toBe(0);

    const all = await runCli(['history', '-c', path, '--format', 'json']);
    expect(all.code).toBe(0);
    const events = JSON.parse(all.stdout) as Array<{ type: string; certSN: string }>;
    expect(events.map((e) => `${e.type}:${e.certSN}`).sort()).toEqual(
      [`revoked:${String(first.cert!.certSN)}`, `removed:${String(second.cert!.certSN)}`].sort(),
    );
    const one = await runCli(['history', '-c', path, '--device', deviceId(first.ref), '--limit', '5']);
    expect(one.stdout).toMatch(/^AT\s+CHANGE\s+DEVICE/);
    expect(one.stdout).toContain(`revoked  ${deviceId(first.ref)}`);
    expect(one.stdout).not.toContain('removed');
  });
});

describe('run and demo', () => {
  it('run exits 0 within 10 s of SIGTERM in the middle of a scan', async () => {
    const slow = await startSimulator({ devices: 200, seed: 2, latencyMs: 200 });
    try {
      const port = await freePort();
      const path = writeConfig(`
enos: { baseUrl: "${slow.url}", appKey: demo-app-key, appSecret: demo-app-secret, maxRequestsPerSecond: 0, concurrency: 4 }
inventory: { discover: [{ orgId: demo-org }] }
server: { host: 127.0.0.1, port: ${port} }
`);
      const daemon = startCli(['run', '-c', path]);
      await waitFor(() => slow.stats.listRequests > 8, { timeoutMs: 15_000, what: 'the scan to be under way' });
      const stoppedAt = Date.now();
      daemon.process.kill('SIGTERM');
      const result = await daemon.exited;
      expect(result.code).toBe(0);
      expect(Date.now() - stoppedAt).toBeLessThan(10_000);
      expect(daemon.logs().map((l) => l.msg)).toEqual(expect.arrayContaining(['shutdown signal', 'stopped']));
    } finally {
      await slow.close();
    }
  });

  it('demo serves /metrics with the simulated fleet, and stops on SIGTERM', async () => {
    const port = await freePort();
    const demo = startCli(['demo'], { ENOS_DEMO_PORT: String(port) });
    const [, url] = await demo.waitForOutput(/metrics:\s+(http:\S+)/);
    const body = await waitFor(
      async () => {
        const text = await (await fetch(url!)).text();
        return /enos_scans_total\{result="success"\} 1/.test(text) ? text : undefined;
      },
      { timeoutMs: 20_000, what: 'the first demo scan' },
    );
    expect(body).toMatch(/^enos_certificate_not_after_timestamp_seconds\{/m);
    expect(body).toMatch(/^enos_devices\{org_id="demo-org",state="ok"\} \d+/m);
    demo.process.kill('SIGTERM');
    expect((await demo.exited).code).toBe(0);
  });
});
