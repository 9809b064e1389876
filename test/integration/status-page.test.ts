import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deviceId } from '../../src/domain/device-id.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { sample, startDaemon, type TestDaemon } from '../support/daemon.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

interface Listed {
  orgId: string;
  assetId: string;
  certSN: string;
  notAfter: string;
  state: string;
  superseded: boolean;
}

const CONTRACT_KEYS = ['orgId', 'assetId', 'productKey', 'deviceKey', 'certSN', 'status', 'notBefore', 'notAfter', 'daysLeft', 'state', 'superseded'];

async function getJson(daemon: TestDaemon, path: string) {
  const response = await fetch(`http://127.0.0.1:${daemon.port}${path}`);
  return { status: response.status, headers: response.headers, json: (await response.json()) as Record<string, unknown> };
}

async function scans(daemon: TestDaemon): Promise<number> {
  return sample(await daemon.metrics(), 'enos_scans_total');
}

function daemonYaml(simulator: Simulator, extra: string): string {
  return `
enos: { baseUrl: "${simulator.url}", appKey: demo-app-key, appSecret: demo-app-secret, maxRequestsPerSecond: 0, maxAttempts: 1 }
inventory: { discover: [{ orgId: demo-org }] }
${extra}
`;
}

describe('status page and API of the running daemon (Redis store)', () => {
  let simulator: Simulator;
  let daemon: TestDaemon;

  beforeAll(async () => {
    simulator = await startSimulator({ devices: 60, seed: 140 });
    daemon = await startDaemon(
      daemonYaml(simulator, `schedule: { cron: "*/2 * * * * *", runOnStart: true }\nstore: { redisUrl: "${inject('redisUrl')}", keyPrefix: "status-${randomUUID()}:" }`),
    );
    await daemon.waitForMetrics((body) => sample(body, 'enos_scans_total', { result: 'success' }) >= 1, 'the first scan');
  });

  afterAll(async () => {
    await daemon?.kill();
    await simulator?.close();
  });

  it('counts as /metrics does and lists every certificate by notAfter, shaped as scan --format json', async () => {
    const { json: status } = await getJson(daemon, '/api/v1/status');
    const metrics = await daemon.metrics();
    for (const [state, count] of Object.entries(status.certificates as Record<string, number>)) {
      expect([state, count]).toEqual([state, sample(metrics, 'enos_certificates', { state })]);
    }
    for (const [state, count] of Object.entries(status.devices as Record<string, number>)) {
      expect([state, count]).toEqual([state, sample(metrics, 'enos_devices', { state })]);
    }
    expect(status.lastScan).toMatchObject({ result: 'success', devices: { total: 60, failed: 0 } });

    const { json } = await getJson(daemon, '/api/v1/certificates?limit=1000');
    const certificates = json.certificates as Listed[];
    expect(json.total).toBe(sample(metrics, 'enos_certificates'));
    expect(certificates).toHaveLength(json.total as number);
    expect(Object.keys(certificates[0]!).sort()).toEqual(expect.arrayContaining([...CONTRACT_KEYS].sort()));
    const times = certificates.map((c) => Date.parse(c.notAfter));
    expect(times).toEqual([...times].sort((a, b) => a - b));

    const { json: page2 } = await getJson(daemon, '/api/v1/certificates?limit=10&offset=10&state=warning,critical,expired,revoked');
    const needing = certificates.filter((c) => c.state !== 'ok');
    expect(page2.total).toBe(needing.length);
    expect((page2.certificates as Listed[]).map((c) => c.certSN)).toEqual(needing.slice(10, 20).map((c) => c.certSN));
  });

  it('shows the certificates needing action, the totals and the chart on the page, with CSP and nosniff', async () => {
    const response = await fetch(`http://127.0.0.1:${daemon.port}/`);
    const body = await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; /);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const { json } = await getJson(daemon, '/api/v1/certificates?limit=1000&state=warning,critical,expired,revoked');
    const action = (json.certificates as Listed[]).filter((c) => !c.superseded);
    expect(body).toContain(`Certificates needing action (${action.length})`);
    const rows = [...body.matchAll(/<td data-label="Cert SN"[^>]*>([^<]*)<\/td>/g)].map((m) => m[1]);
    expect(rows).toEqual(action.slice(0, 50).map((c) => c.certSN));
    expect(body.match(/<g class="bar /g)).toHaveLength(27);
    expect(body).toMatch(/Last scan: <strong class="result-success">success<\/strong>/);
  });

  it('records a revocation in the changes, newest first, for the device asked for', async () => {
    const device = [...simulator.fleet.devices()].find((d) => (simulator.fleet.certificates(d) ?? []).some((c) => c.certStatus === 0))!;
    const cert = simulator.fleet.certificates(device)!.find((c) => c.certStatus === 0)!;
    simulator.fleet.revoke(device, String(cert.certSN), 'IoT_Hub', 'KEY COMPROMISE');
    const id = deviceId({ orgId: device.orgId, assetId: device.assetId });
    const { json } = await waitFor(
      async () => {
        const answer = await getJson(daemon, `/api/v1/changes?device=${encodeURIComponent(id)}&limit=5`);
        return (answer.json.changes as unknown[]).length > 0 ? answer : undefined;
      },
      { timeoutMs: 20_000, what: 'the revoked change event' },
    );
    expect(json.changes).toEqual([expect.objectContaining({ type: 'revoked', assetId: device.assetId, certSN: String(cert.certSN), from: 'valid', to: 'revoked', revokerReason: 'KEY COMPROMISE' })]);
    const all = await getJson(daemon, '/api/v1/changes?limit=1000');
    const at = (all.json.changes as { at: string }[]).map((c) => Date.parse(c.at));
    expect(at).toEqual([...at].sort((a, b) => b - a));
    expect(await (await fetch(`http://127.0.0.1:${daemon.port}/`)).text()).toMatch(/<td data-label="Change">revoked<\/td>/);
  });

  it('shows the audit findings: a certificate bound to two devices is shared', async () => {
    const [first, second] = [...simulator.fleet.devices()].slice(-2);
    const shared = { certSN: 'shared-on-two', certStatus: 0, expireDate: Date.now() + 10 * 86_400_000, effectiveDate: Date.now() - 86_400_000, issuer: 'CN=One CA', subject: 'CN=twin', issueAuthority: 'RSA', revoker: '', revokerReason: '' };
    for (const device of [first!, second!]) simulator.fleet.setCertificates(device, [shared]);
    const { json } = await waitFor(
      async () => {
        const answer = await getJson(daemon, '/api/v1/certificates?state=warning&limit=1000');
        const twins = (answer.json.certificates as (Listed & { findings?: string[] })[]).filter((c) => c.certSN === 'shared-on-two');
        return twins.length === 2 && twins.every((c) => c.findings?.includes('shared')) ? answer : undefined;
      },
      { timeoutMs: 20_000, what: 'both twins with the shared finding' },
    );
    expect(json.total).toBeGreaterThanOrEqual(2);
    const body = await (await fetch(`http://127.0.0.1:${daemon.port}/?state=warning&limit=1000`)).text();
    const actionTable = /<table class="list" id="action-table">[\s\S]*?<\/table>/.exec(body)![0];
    const rows = actionTable.split('<tr>').filter((row) => row.includes('>shared-on-two<'));
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toContain('<span class="finding">shared</span>');
  });

  it('refuses bad parameters and other methods over HTTP, and answers HEAD', async () => {
    for (const path of ['/api/v1/certificates?limit=-1', '/api/v1/certificates?limit=1&limit=2', '/api/v1/changes?limit=1e9', '/api/v1/status?x=1', '/?offset=abc']) {
      const answer = await getJson(daemon, path);
      expect([path, answer.status, typeof answer.json.error]).toEqual([path, 400, 'string']);
    }
    const post = await fetch(`http://127.0.0.1:${daemon.port}/api/v1/certificates`, { method: 'POST', body: '{}' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    const head = await fetch(`http://127.0.0.1:${daemon.port}/`, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-type'), await head.text()]).toEqual([200, 'text/html; charset=utf-8', '']);
    expect(daemon.cli.process.exitCode).toBeNull();
  });
});

describe('status page with the store down', () => {
  let simulator: Simulator;
  let redis: RedisServer;
  let daemon: TestDaemon;

  beforeAll(async () => {
    simulator = await startSimulator({ devices: 20, seed: 141 });
    redis = await startRedis();
    daemon = await startDaemon(daemonYaml(simulator, `schedule: { cron: "0 0 1 1 *", runOnStart: true }\nstore: { redisUrl: "${redis.url}", commandTimeoutMs: 500 }`));
    await daemon.waitForMetrics((body) => sample(body, 'enos_scans_total') >= 1, 'the first scan');
  });

  afterAll(async () => {
    await daemon?.kill();
    await redis?.stop();
    await simulator?.close();
  });

  it('renders from memory and says the history is unavailable; the changes API answers 503', async () => {
    const before = await getJson(daemon, '/api/v1/status');
    await redis.kill();
    const page = await fetch(`http://127.0.0.1:${daemon.port}/`);
    const body = await page.text();
    expect(page.status).toBe(200);
    expect(body).toContain('History unavailable');
    expect(body).toContain('id="action-table"');
    expect((await getJson(daemon, '/api/v1/changes')).status).toBe(503);
    const after = await getJson(daemon, '/api/v1/status');
    expect(after.json.certificates).toEqual(before.json.certificates);
    expect(await scans(daemon)).toBeGreaterThanOrEqual(1);
  });
});

describe('server.statusPage: false', () => {
  it('turns the page and the API off (404) and leaves /metrics alone', async () => {
    const simulator = await startSimulator({ devices: 3, seed: 142 });
    const daemon = await startDaemon(daemonYaml(simulator, 'schedule: { cron: "0 0 1 1 *", runOnStart: false }'), {}, { statusPage: false });
    try {
      for (const path of ['/', '/api/v1/status', '/api/v1/certificates', '/api/v1/changes']) {
        expect([path, (await daemon.get(path)).status]).toEqual([path, 404]);
      }
      expect((await daemon.get('/metrics')).status).toBe(200);
    } finally {
      await daemon.kill();
      await simulator.close();
    }
  });
});
