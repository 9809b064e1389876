import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import type { EnosApi } from '../../src/enos/api.js';
import { createEnosClient } from '../../src/enos/client.js';
import type { Operation, Outcome } from '../../src/enos/outcome.js';
import { startSimulator, type FaultKind, type SimDevice, type Simulator } from '../../src/simulator/index.js';
import { systemClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { Secret } from '../../src/util/secret.js';
import { failureOf } from '../support/errors.js';

const APP_KEY = 'it-app-key';
const APP_SECRET = 'it-app-secret';
const TIMEOUT_MS = 300;
const MAX_ATTEMPTS = 3;

let sim: Simulator;
let devices: SimDevice[];
const clients: EnosApi[] = [];

beforeAll(async () => {
  sim = await startSimulator({ devices: 30, seed: 11, appKey: APP_KEY, appSecret: APP_SECRET });
  devices = [...sim.fleet.devices()];
});

afterEach(async () => {
  sim.faults.clear();
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

afterAll(() => sim.close());

/** A client of the simulator with fast retries; `attempts` records each HTTP attempt as `operation:outcome`. */
function connect(overrides: Partial<Config['enos']> = {}) {
  const attempts: string[] = [];
  const client = createEnosClient(
    {
      baseUrl: sim.url,
      appKey: APP_KEY,
      appSecret: new Secret(APP_SECRET),
      requestTimeoutMs: TIMEOUT_MS,
      concurrency: 4,
      maxRequestsPerSecond: 0,
      maxAttempts: MAX_ATTEMPTS,
      retryBaseDelayMs: 5,
      retryMaxDelayMs: 20,
      ...overrides,
    },
    {
      clock: systemClock,
      log: silentLogger,
      observer: (operation: Operation, outcome: Outcome) => attempts.push(`${operation}:${outcome}`),
    },
  );
  clients.push(client);
  return { client, attempts };
}

const ref = (device: SimDevice) => ({ orgId: device.orgId, assetId: device.assetId });
const withCertificates = () => devices.find((d) => (sim.fleet.certificates(ref(d))?.length ?? 0) > 0)!;

describe('EnOS client against the simulator', () => {
  it('lists the certificates of a device, by assetId and by productKey + deviceKey', async () => {
    const { client } = connect();
    const device = withCertificates();
    const raw = sim.fleet.certificates(ref(device))!;
    const expected = raw.map((c) => ({ certSN: String(c.certSN), notAfter: c.expireDate }));
    const byAsset = await client.listCertificates(ref(device));
    const byKeys = await client.listCertificates({
      orgId: device.orgId,
      productKey: device.productKey,
      deviceKey: device.deviceKey,
    });
    expect(byAsset.map((c) => ({ certSN: c.certSN, notAfter: c.notAfter }))).toEqual(expected);
    expect(byKeys).toEqual(byAsset);
  });

  it('reads the start date under either spelling', async () => {
    const { client } = connect();
    for (const field of ['effectiveDate', 'effetiveDate'] as const) {
      const device = devices.find(
        (d) => d.startDateField === field && (sim.fleet.certificates(ref(d))?.length ?? 0) > 0,
      );
      expect(device, `a device spelling ${field}`).toBeDefined();
      const [first] = await client.listCertificates(ref(device!));
      expect(first!.notBefore).toBe(sim.fleet.certificates(ref(device!))![0]![field]);
    }
  });

  it('searches devices page by page without fetching secrets', async () => {
    const { client } = connect();
    const page = await client.searchDevices(sim.fleet.orgId, undefined, 1);
    expect(page).toMatchObject({ pageNo: 1, pageSize: 200, totalSize: devices.length });
    expect(page.devices.map((d) => d.assetId).sort()).toEqual(devices.map((d) => d.assetId).sort());
    expect(JSON.stringify(page)).not.toContain(devices[0]!.deviceSecret);
    const filtered = await client.searchDevices(sim.fleet.orgId, `productKey = '${devices[0]!.productKey}'`, 1);
    expect(filtered.devices.every((d) => d.productKey === devices[0]!.productKey)).toBe(true);
    expect((await client.searchDevices(sim.fleet.orgId, undefined, 2)).devices).toEqual([]);
  });

  it('reports 11404 for a device the gateway does not know', async () => {
    const { client } = connect();
    const error = await failureOf(client.listCertificates({ orgId: sim.fleet.orgId, assetId: 'no-such-asset' }));
    expect([error.operation, error.outcome]).toEqual(['list_certificates', 'code_11404']);
  });

  it.each<[FaultKind, Outcome]>([
    ['http_429', 'http_429'],
    ['http_500', 'http_500'],
    ['http_503', 'http_503'],
    ['code_99500', 'code_99500'],
    ['hang', 'timeout'],
  ])('retries a persistent %s up to maxAttempts, then fails with %s', async (kind, outcome) => {
    const { client, attempts } = connect();
    const device = devices[1]!;
    sim.faults.set(device.assetId, { kind });
    const error = await failureOf(client.listCertificates(ref(device)));
    expect([error.operation, error.outcome]).toEqual(['list_certificates', outcome]);
    expect(attempts).toEqual(['token:success', ...Array(MAX_ATTEMPTS).fill(`list_certificates:${outcome}`)]);
  });

  it.each<FaultKind>(['http_429', 'http_503', 'code_99500', 'hang'])(
    'recovers when %s clears before the last attempt',
    async (kind) => {
      const { client, attempts } = connect();
      const device = withCertificates();
      sim.faults.set(device.deviceKey, { kind, times: MAX_ATTEMPTS - 1 });
      expect(await client.listCertificates(ref(device))).toHaveLength(sim.fleet.certificates(ref(device))!.length);
      expect(attempts.at(-1)).toBe('list_certificates:success');
      expect(attempts.filter((a) => a.startsWith('list_certificates'))).toHaveLength(MAX_ATTEMPTS);
    },
  );

  it.each<[FaultKind, Outcome]>([
    ['code_11404', 'code_11404'],
    ['code_99400', 'code_99400'],
    ['malformed', 'invalid_response'],
    ['wrong_types', 'invalid_response'],
  ])('does not retry %s (%s)', async (kind, outcome) => {
    const { client, attempts } = connect();
    const device = devices[2]!;
    sim.faults.set(device.assetId, { kind });
    const before = sim.stats.listRequests;
    expect((await failureOf(client.listCertificates(ref(device)))).outcome).toBe(outcome);
    expect(sim.stats.listRequests - before).toBe(1);
    expect(attempts).toEqual(['token:success', `list_certificates:${outcome}`]);
  });

  it('times out an answer slower than requestTimeoutMs, and accepts a slow one within it', async () => {
    const { client } = connect();
    const device = withCertificates();
    sim.faults.set(device.assetId, { kind: 'slow', delayMs: TIMEOUT_MS * 3 });
    expect((await failureOf(client.listCertificates(ref(device)))).outcome).toBe('timeout');
    sim.faults.set(device.assetId, { kind: 'slow', delayMs: TIMEOUT_MS / 5 });
    expect(await client.listCertificates(ref(device))).toHaveLength(sim.fleet.certificates(ref(device))!.length);
  });

  it('faults on one device leave the others alone', async () => {
    const { client } = connect();
    sim.faults.set(devices[3]!.assetId, { kind: 'code_99400' });
    await expect(client.listCertificates(ref(devices[4]!))).resolves.toBeInstanceOf(Array);
  });

  it.each<[FaultKind, Outcome]>([
    ['http_503', 'http_503'],
    ['wrong_types', 'invalid_response'],
    ['malformed', 'invalid_response'],
  ])('Search Device fault %s ends in %s', async (kind, outcome) => {
    const { client } = connect();
    sim.faults.setSearch({ kind });
    const error = await failureOf(client.searchDevices(sim.fleet.orgId, undefined, 1));
    expect([error.operation, error.outcome]).toEqual(['search_devices', outcome]);
  });

  it.each<[FaultKind, Outcome]>([
    ['http_503', 'http_503'],
    ['code_99500', 'code_99500'],
    ['hang', 'timeout'],
    ['wrong_types', 'invalid_response'],
  ])('token fault %s ends in %s, with no API call made', async (kind, outcome) => {
    const { client, attempts } = connect();
    sim.faults.setToken({ kind });
    const before = sim.stats.listRequests;
    const error = await failureOf(client.listCertificates(ref(devices[0]!)));
    expect([error.operation, error.outcome]).toEqual(['token', outcome]);
    expect(sim.stats.listRequests).toBe(before);
    const retried = outcome !== 'invalid_response';
    expect(attempts).toHaveLength(retried ? MAX_ATTEMPTS : 1);
  });

  it('recovers from a passing token fault', async () => {
    const { client, attempts } = connect();
    sim.faults.setToken({ kind: 'http_429', times: 1 });
    await client.listCertificates(ref(devices[0]!));
    expect(attempts).toEqual(['token:http_429', 'token:success', 'list_certificates:success']);
  });

  it('fetches a fresh token when the gateway stops accepting the old one', async () => {
    const { client, attempts } = connect();
    await client.listCertificates(ref(devices[0]!));
    sim.expireTokens();
    await Promise.all(devices.slice(0, 4).map((d) => client.listCertificates(ref(d))));
    expect(attempts.filter((a) => a === 'token:success')).toHaveLength(2);
    expect(attempts).toContain('list_certificates:http_401');
  });

  it.each([
    { name: 'a wrong appSecret', overrides: { appSecret: new Secret('not-the-secret') }, outcome: 'code_1003' },
    { name: 'an unknown appKey', overrides: { appKey: 'no-such-key' }, outcome: 'code_1002' },
  ])('is refused with $name, without retrying', async ({ overrides, outcome }) => {
    const { client } = connect(overrides);
    const before = sim.stats.tokenRequests;
    const error = await failureOf(client.listCertificates(ref(devices[0]!)));
    expect([error.operation, error.outcome]).toEqual(['token', outcome]);
    expect(error.message).not.toContain('not-the-secret');
    // Further calls answer from the held refusal instead of asking again.
    await failureOf(client.listCertificates(ref(devices[1]!)));
    expect(sim.stats.tokenRequests - before).toBe(1);
  });

  it('gives up at once when the caller aborts a hanging request', async () => {
    const { client } = connect({ requestTimeoutMs: 10_000 });
    const device = devices[5]!;
    sim.faults.set(device.assetId, { kind: 'hang' });
    const controller = new AbortController();
    const pending = client.listCertificates(ref(device), controller.signal);
    await expect.poll(() => sim.stats.inFlight, { timeout: 2_000 }).toBe(1);
    const reason = new Error('shutting down');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});
