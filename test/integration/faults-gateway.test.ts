import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/index.js';
import { cleanupAfterEach } from '../support/cleanup.js';
import { runCli, writeConfig } from '../support/cli.js';
import { sample, startDaemon, type TestDaemon } from '../support/daemon.js';
import { waitFor } from '../support/wait.js';

const { defer, simulator } = cleanupAfterEach();

/**
 * Every request the simulator (the only HTTP server of this process) receives, as it arrives:
 * Node announces each one on this diagnostics channel.
 */
function watchRequests(onRequest: (request: IncomingMessage) => void = () => undefined): Array<{ at: number; path: string }> {
  const seen: Array<{ at: number; path: string }> = [];
  const listener = (message: unknown): void => {
    const { request } = message as { request: IncomingMessage };
    seen.push({ at: performance.now(), path: new URL(request.url ?? '/', 'http://x').pathname });
    onRequest(request);
  };
  subscribe('http.server.request.start', listener);
  defer(() => void unsubscribe('http.server.request.start', listener));
  return seen;
}

/** `run` scanning the simulator once at start (the cron is yearly), with `enos` settings added. */
async function daemon(sim: Simulator, enos: string, schedule = '{ cron: "0 0 1 1 *", runOnStart: true }'): Promise<TestDaemon> {
  const started = await startDaemon(`
enos: { baseUrl: "${sim.url}", appKey: demo-app-key, appSecret: demo-app-secret, ${enos} }
inventory: { discover: [{ orgId: demo-org }] }
schedule: ${schedule}
log: { level: info }
`);
  defer(() => started.kill());
  return started;
}

const scans = (body: string, result?: string) => sample(body, 'enos_scans_total', result ? { result } : {});
const apiRequests = (body: string, operation: string, outcome: string) =>
  sample(body, 'enos_api_requests_total', { operation, outcome });
const scanned = (d: TestDaemon) => d.waitForMetrics((body) => scans(body) >= 1, 'the scan to end');

describe('the daemon when the gateway misbehaves', () => {
  it('backs off a 429 storm at the configured rate and completes the scan', async () => {
    const sim = await simulator({ devices: 40, seed: 41 });
    const requests = watchRequests();
    const STORM = 30;
    const RATE = 40;
    sim.faults.set('*', { kind: 'http_429', times: STORM });
    const d = await daemon(sim, `maxRequestsPerSecond: ${RATE}, concurrency: 8, maxAttempts: 10, retryBaseDelayMs: 50, retryMaxDelayMs: 400`);
    const body = await scanned(d);

    expect(scans(body, 'success')).toBe(1);
    expect(sample(body, 'enos_device_queries_total', { result: 'ok' })).toBe(40);
    expect(apiRequests(body, 'list_certificates', 'http_429')).toBe(STORM);
    // Each refused request was repeated once, nothing more.
    expect(sim.stats.listRequests).toBe(40 + STORM);
    // Requests (token, search and list together) are spaced at RATE per second: overall, and in
    // any second give or take a few (a busy test process may see a few arrive late, together).
    const times = requests.map((r) => r.at);
    expect(times.at(-1)! - times[0]!).toBeGreaterThan(((times.length - 1) * 1_000) / RATE - 100);
    for (let i = 0; i + RATE < times.length; i++) expect(times[i + RATE]! - times[i]!).toBeGreaterThan(1_000 - 200);
  });

  it('times out hanging requests; the scan ends, and only the hung devices fail', async () => {
    const sim = await simulator({ devices: 30, seed: 42 });
    const [first, second] = [...sim.fleet.devices()];
    sim.faults.set(first!.assetId, { kind: 'hang' });
    sim.faults.set(second!.deviceKey, { kind: 'hang' });
    const d = await daemon(sim, 'maxRequestsPerSecond: 0, requestTimeoutMs: 300, maxAttempts: 2, retryBaseDelayMs: 1, retryMaxDelayMs: 5');
    const body = await scanned(d);

    expect(scans(body, 'success')).toBe(1);
    expect(sample(body, 'enos_devices', { state: 'error' })).toBe(2);
    expect(sample(body, 'enos_device_query_failures', { org_id: 'demo-org', reason: 'timeout' })).toBe(2);
    expect(apiRequests(body, 'list_certificates', 'timeout')).toBe(4);
    expect(sample(body, 'enos_scan_duration_seconds_sum')).toBeLessThan(5);
    // The client closed the hung connections: nothing is left in flight at the gateway.
    await waitFor(() => sim.stats.inFlight === 0, { what: 'the hung requests to be closed' });
  });

  it('ends a one-shot scan with exit 3 when the token service never answers', async () => {
    const sim = await simulator({ devices: 5, seed: 43 });
    sim.faults.setToken({ kind: 'hang' });
    const path = writeConfig(`
enos: { baseUrl: "${sim.url}", appKey: demo-app-key, appSecret: demo-app-secret, requestTimeoutMs: 300, maxAttempts: 3,
        retryBaseDelayMs: 1, retryMaxDelayMs: 5 }
inventory: { discover: [{ orgId: demo-org }] }
`);
    const startedAt = Date.now();
    const result = await runCli(['scan', '-c', path, '--format', 'json']);
    expect(result.code).toBe(3);
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(sim.stats.tokenRequests).toBe(3);
    expect((JSON.parse(result.stdout) as { errors: Array<{ reason: string }> }).errors.map((e) => e.reason)).toEqual(['timeout']);
  });

  it('fetches one new token when the gateway expires the old one mid-scan', async () => {
    const sim = await simulator({ devices: 100, seed: 44, latencyMs: 20 });
    const CONCURRENCY = 8;
    let lists = 0;
    watchRequests((request) => {
      if (request.url?.startsWith('/connect-service/v2.0/certificates') && ++lists === 30) sim.expireTokens();
    });
    const d = await daemon(sim, `maxRequestsPerSecond: 0, concurrency: ${CONCURRENCY}`);
    const body = await scanned(d);

    expect(scans(body, 'success')).toBe(1);
    expect(sample(body, 'enos_device_queries_total', { result: 'ok' })).toBe(100);
    expect(sim.stats.tokenRequests).toBe(2);
    // Only the requests already sent with the old token were refused.
    expect(sim.stats.rejectedRequests).toBeGreaterThan(0);
    expect(sim.stats.rejectedRequests).toBeLessThanOrEqual(CONCURRENCY);
  });

  it('keeps running on wrong credentials: failed scans, the reason in logs and metrics, one token request per 30 s', async () => {
    const sim = await simulator({ devices: 5, seed: 45 });
    const startedAt = Date.now();
    const d = await startDaemon(`
enos: { baseUrl: "${sim.url}", appKey: demo-app-key, appSecret: not-the-secret, maxRequestsPerSecond: 0 }
inventory: { discover: [{ orgId: demo-org }] }
schedule: { cron: "* * * * * *", runOnStart: true }
`);
    defer(() => d.kill());
    const body = await d.waitForMetrics((b) => scans(b, 'failure') >= 3, 'three failed scans');
    expect(Date.now() - startedAt).toBeLessThan(30_000);

    expect(apiRequests(body, 'token', 'code_1003')).toBe(1);
    expect(sim.stats.tokenRequests).toBe(1);
    expect(sim.stats.listRequests + sim.stats.searchRequests).toBe(0);
    expect((await d.get('/healthz')).status).toBe(200);
    const failure = d.cli.logs().find((line) => line.msg === 'inventory source failed');
    expect(failure).toMatchObject({ reason: 'code_1003' });
    expect(d.cli.stdout() + d.cli.stderr()).not.toContain('not-the-secret');
  });
});
