import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runSimulate } from '../../src/commands/simulate.js';
import { requestSignature, tokenEncryption } from '../../src/enos/signature.js';
import { startSimulator, type FaultKind, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { manualClock } from '../../src/util/clock.js';
import { waitFor } from '../support/wait.js';

const APP_KEY = 'demo-app-key';
const APP_SECRET = 'demo-app-secret';
const ORG = 'demo-org';
const LIST_PATH = '/connect-service/v2.0/certificates';
const SEARCH_PATH = '/connect-service/v2.1/devices';

/** Token requests need a fresh timestamp each (a reused encryption is refused). */
let lastTimestamp = Date.now();
const freshTimestamp = () => (lastTimestamp = Math.max(lastTimestamp + 1, Date.now()));

const running: Simulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((simulator) => simulator.close()));
});

async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  const simulator = await startSimulator({ devices: 500, ...options });
  running.push(simulator);
  return simulator;
}

interface Reply {
  readonly status: number;
  readonly text: string;
  readonly json: Record<string, unknown>;
}

async function reply(response: Response): Promise<Reply> {
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // left empty: the malformed fault's body is not JSON
  }
  return { status: response.status, text, json };
}

async function requestToken(simulator: Simulator, body: Record<string, unknown>): Promise<Reply> {
  const response = await fetch(`${simulator.url}/apim-token-service/v2.0/token/get`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return reply(response);
}

function tokenBody(timestamp = freshTimestamp(), appSecret = APP_SECRET) {
  return { appKey: APP_KEY, timestamp, encryption: tokenEncryption(APP_KEY, timestamp, appSecret) };
}

async function token(simulator: Simulator): Promise<string> {
  const answer = await requestToken(simulator, tokenBody());
  const data = answer.json.data as { accessToken: string };
  return data.accessToken;
}

interface CallOptions {
  readonly accessToken: string;
  readonly signatureSecret?: string;
  readonly signal?: AbortSignal;
}

/** A signed API call, as the gateway expects it. */
async function call(
  simulator: Simulator,
  method: 'GET' | 'POST',
  path: string,
  query: Record<string, string>,
  body: string,
  { accessToken, signatureSecret = APP_SECRET, signal }: CallOptions,
): Promise<Reply> {
  const params = new URLSearchParams(query);
  const timestamp = Date.now();
  const response = await fetch(`${simulator.url}${path}?${params}`, {
    method,
    headers: {
      'content-type': 'application/json',
      'apim-accesstoken': accessToken,
      'apim-timestamp': String(timestamp),
      'apim-signature': requestSignature(accessToken, params, body, timestamp, signatureSecret),
    },
    ...(method === 'POST' ? { body } : {}),
    ...(signal ? { signal } : {}),
  });
  return reply(response);
}

function listCertificates(simulator: Simulator, accessToken: string, assetId: string, signal?: AbortSignal) {
  return call(simulator, 'GET', LIST_PATH, { action: 'list', orgId: ORG, assetId }, '', {
    accessToken,
    ...(signal ? { signal } : {}),
  });
}

function searchDevices(simulator: Simulator, accessToken: string, payload: Record<string, unknown>) {
  return call(simulator, 'POST', SEARCH_PATH, { action: 'search', orgId: ORG }, JSON.stringify(payload), { accessToken });
}

describe('token service', () => {
  it('issues a token, and the same one again before expiry', async () => {
    const simulator = await start();
    const first = await requestToken(simulator, tokenBody());
    expect(first.json).toEqual({
      status: 0,
      msg: 'Success',
      business: 'apim-token-service',
      data: { accessToken: expect.any(String), expire: 7200 },
    });
    const second = await requestToken(simulator, tokenBody());
    expect((second.json.data as { accessToken: string }).accessToken).toBe(
      (first.json.data as { accessToken: string }).accessToken,
    );
    expect(simulator.stats.tokenRequests).toBe(2);
  });

  it.each([
    ['a reused encryption', 1001],
    ['a wrong encryption', 1003],
    ['an unknown appKey', 1002],
    ['missing fields', 1202],
  ])('refuses %s', async (name, status) => {
    const simulator = await start();
    const body = tokenBody();
    if (name === 'a reused encryption') expect((await requestToken(simulator, body)).json.status).toBe(0);
    const sent = {
      'a reused encryption': body,
      'a wrong encryption': tokenBody(freshTimestamp(), 'not-the-secret'),
      'an unknown appKey': { ...body, appKey: 'someone-else' },
      'missing fields': { appKey: APP_KEY },
    }[name];
    const answer = await requestToken(simulator, sent ?? {});
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ status, business: 'apim-token-service', data: null });
  });

  it('tokens expire by the clock, and expireTokens() ends them at once', async () => {
    const clock = manualClock(Date.now());
    const simulator = await start({ clock, tokenTtlSeconds: 60 });
    const first = await token(simulator);
    expect((await listCertificates(simulator, first, 'asset-000001')).status).toBe(200);
    clock.advance(60_000);
    const expired = await listCertificates(simulator, first, 'asset-000001');
    expect(expired.status).toBe(401);
    expect(expired.json).toEqual({ message: 'Invalid authentication credentials' });

    const second = await token(simulator);
    expect(second).not.toBe(first);
    expect((await listCertificates(simulator, second, 'asset-000001')).status).toBe(200);
    simulator.expireTokens();
    expect((await listCertificates(simulator, second, 'asset-000001')).status).toBe(401);
    expect(await token(simulator)).not.toBe(second);
  });
});

describe('gateway authentication', () => {
  it('refuses a wrong signature with 401 and counts it', async () => {
    const simulator = await start();
    const accessToken = await token(simulator);
    const query = { action: 'list', orgId: ORG, assetId: 'asset-000001' };
    const answer = await call(simulator, 'GET', LIST_PATH, query, '', { accessToken, signatureSecret: 'wrong' });
    expect(answer.status).toBe(401);
    expect(answer.json).toEqual({ message: 'Invalid authentication credentials' });
    expect(simulator.stats.rejectedRequests).toBe(1);
  });

  it('refuses an unknown token, and a request changed after signing', async () => {
    const simulator = await start();
    expect((await listCertificates(simulator, 'made-up-token', 'asset-000001')).status).toBe(401);

    const accessToken = await token(simulator);
    const timestamp = Date.now();
    const signed = new URLSearchParams({ action: 'list', orgId: ORG, assetId: 'asset-000001' });
    const sent = new URLSearchParams({ action: 'list', orgId: ORG, assetId: 'asset-000002' });
    const response = await fetch(`${simulator.url}${LIST_PATH}?${sent}`, {
      headers: {
        'apim-accesstoken': accessToken,
        'apim-timestamp': String(timestamp),
        'apim-signature': requestSignature(accessToken, signed, '', timestamp, APP_SECRET),
      },
    });
    expect(response.status).toBe(401);
    await response.arrayBuffer();
    expect(simulator.stats.rejectedRequests).toBe(2);
  });

  it('checks the signature over the exact search body', async () => {
    const simulator = await start();
    const accessToken = await token(simulator);
    const params = new URLSearchParams({ action: 'search', orgId: ORG });
    const timestamp = Date.now();
    const response = await fetch(`${simulator.url}${SEARCH_PATH}?${params}`, {
      method: 'POST',
      headers: {
        'apim-accesstoken': accessToken,
        'apim-timestamp': String(timestamp),
        'apim-signature': requestSignature(accessToken, params, '{"pagination":{"pageNo":1}}', timestamp, APP_SECRET),
      },
      body: '{"pagination":{"pageNo":2}}',
    });
    expect(response.status).toBe(401);
    await response.arrayBuffer();
  });

  it('answers 404 for a path it does not serve', async () => {
    const simulator = await start();
    const response = await fetch(`${simulator.url}/connect-service/v2.0/nothing`);
    expect(response.status).toBe(404);
    await response.arrayBuffer();
  });
});

describe('List Certificate', () => {
  it('answers what the fleet holds', async () => {
    const simulator = await start();
    const accessToken = await token(simulator);
    for (const index of [1, 2, 3, 250]) {
      const assetId = `asset-${String(index).padStart(6, '0')}`;
      const answer = await listCertificates(simulator, accessToken, assetId);
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({
        code: 0,
        msg: 'OK',
        requestId: expect.any(String),
        data: simulator.fleet.certificates({ orgId: ORG, assetId }),
      });
    }
    expect(simulator.stats.listRequests).toBe(4);
  });

  it('reflects mutations, and knows devices by productKey + deviceKey', async () => {
    const simulator = await start();
    const accessToken = await token(simulator);
    const device = simulator.fleet.device(9);
    if (!device) throw new Error('device 9 missing');
    const certSN = simulator.fleet.addCertificate(device, { expireDate: Date.now() + 86_400_000 });
    simulator.fleet.revoke(device, certSN, 'ops', 'KEY COMPROMISE');
    const query = { action: 'list', orgId: ORG, productKey: device.productKey, deviceKey: device.deviceKey };
    const answer = await call(simulator, 'GET', LIST_PATH, query, '', { accessToken });
    const data = answer.json.data as Record<string, unknown>[];
    expect(data.find((c) => c.certSN === certSN)).toMatchObject({ certStatus: 1, revoker: 'ops' });
  });

  it('answers 11404 for an unknown device and 99400 for a bad identifier', async () => {
    const simulator = await start();
    const accessToken = await token(simulator);
    simulator.fleet.removeDevice({ orgId: ORG, assetId: 'asset-000005' });
    expect((await listCertificates(simulator, accessToken, 'asset-000005')).json).toMatchObject({ code: 11404, data: null });
    const bad = await call(simulator, 'GET', LIST_PATH, { action: 'list', orgId: ORG, deviceKey: 'dev-000001' }, '', {
      accessToken,
    });
    expect(bad.status).toBe(200);
    expect(bad.json).toMatchObject({ code: 99400, data: null, requestId: expect.any(String) });
  });
});

describe('Search Device', () => {
  async function page(simulator: Simulator, accessToken: string, pageNo: number, extra: Record<string, unknown> = {}) {
    const answer = await searchDevices(simulator, accessToken, { pagination: { pageNo, pageSize: 200 }, ...extra });
    expect(answer.json.code).toBe(0);
    return answer.json as { data: Record<string, unknown>[]; pagination: Record<string, number> };
  }

  it('pages through every device at 200 per page, newest first', async () => {
    const simulator = await start();
    const accessToken = await token(simulator);
    const pages = [await page(simulator, accessToken, 1), await page(simulator, accessToken, 2), await page(simulator, accessToken, 3)];
    expect(pages.map((p) => p.data.length)).toEqual([200, 200, 100]);
    expect(pages.map((p) => p.pagination)).toEqual([1, 2, 3].map((pageNo) => ({ pageNo, pageSize: 200, totalSize: 500 })));
    const assetIds = pages.flatMap((p) => p.data.map((d) => d.assetId));
    expect(assetIds).toEqual(Array.from({ length: 500 }, (_, i) => `asset-${String(500 - i).padStart(6, '0')}`));
    expect((await page(simulator, accessToken, 4)).data).toEqual([]);
    expect(simulator.stats.searchRequests).toBe(4);
  });

  it('includes deviceSecret unless the projection leaves it out', async () => {
    const simulator = await start();
    const accessToken = await token(simulator);
    expect((await page(simulator, accessToken, 1)).data[0]).toHaveProperty('deviceSecret');
    const projected = await page(simulator, accessToken, 1, { projection: ['assetId', 'productKey', 'deviceKey', 'status'] });
    expect(Object.keys(projected.data[0] ?? {}).sort()).toEqual(['assetId', 'deviceKey', 'productKey', 'status']);
  });

  it('shifts pages when a device is added between them', async () => {
    const simulator = await start();
    const accessToken = await token(simulator);
    const first = await page(simulator, accessToken, 1);
    const added = simulator.fleet.addDevice();
    const second = await page(simulator, accessToken, 2);
    expect(second.pagination.totalSize).toBe(501);
    expect(second.data[0]?.assetId).toBe(first.data[199]?.assetId);
    expect((await page(simulator, accessToken, 1)).data[0]?.assetId).toBe(added.assetId);
  });

  it('filters by expression and refuses what it cannot parse or a page size above 200', async () => {
    const simulator = await start();
    const accessToken = await token(simulator);
    const filtered = await page(simulator, accessToken, 1, { expression: "productKey = 'pk-b' and status = 'online'" });
    expect(filtered.data.length).toBeGreaterThan(0);
    expect(filtered.data.every((d) => d.productKey === 'pk-b' && d.status === 'online')).toBe(true);
    const unparseable = await searchDevices(simulator, accessToken, { expression: "productKey ~ 'x'" });
    expect(unparseable.json).toMatchObject({ code: 99400, data: null });
    const tooLarge = await searchDevices(simulator, accessToken, { pagination: { pageNo: 1, pageSize: 201 } });
    expect(tooLarge.json).toMatchObject({ code: 99400, data: null });
  });
});

describe('faults', () => {
  const answering: [FaultKind, (answer: Reply) => void][] = [
    ['http_429', (a) => expect(a.status).toBe(429)],
    ['http_500', (a) => expect(a.status).toBe(500)],
    ['http_503', (a) => expect(a.status).toBe(503)],
    ['code_99500', (a) => expect([a.status, a.json.code, a.json.data]).toEqual([200, 99500, null])],
    ['code_99400', (a) => expect([a.status, a.json.code, a.json.data]).toEqual([200, 99400, null])],
    ['code_11404', (a) => expect([a.status, a.json.code, a.json.data]).toEqual([200, 11404, null])],
    ['malformed', (a) => expect(() => JSON.parse(a.text) as unknown).toThrow(SyntaxError)],
    ['wrong_types', (a) => expect(a.json).toMatchObject({ code: 0, data: [{ certSN: expect.any(Number) }] })],
  ];

  it.each(answering)('%s hits only the selected device', async (kind, check) => {
    const simulator = await start();
    const accessToken = await token(simulator);
    simulator.faults.set('asset-000003', { kind });
    check(await listCertificates(simulator, accessToken, 'asset-000003'));
    expect((await listCertificates(simulator, accessToken, 'asset-000004')).json.code).toBe(0);
  });

  it('selects a device by deviceKey, or every device with *', async () => {
    const simulator = await start();
    const accessToken = await token(simulator);
    simulator.faults.set('dev-000007', { kind: 'http_500' });
    expect((await listCertificates(simulator, accessToken, 'asset-000007')).status).toBe(500);
    simulator.faults.set('*', { kind: 'code_99500' });
    expect((await listCertificates(simulator, accessToken, 'asset-000123')).json.code).toBe(99500);
    simulator.faults.clear();
    expect((await listCertificates(simulator, accessToken, 'asset-000123')).json.code).toBe(0);
  });

  it('clears itself after `times` answers', async () => {
    const simulator = await start();
    const accessToken = await token(simulator);
    simulator.faults.set('asset-000001', { kind: 'http_503', times: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await listCertificates(simulator, accessToken, 'asset-000001')).status);
    expect(statuses).toEqual([503, 503, 200]);
  });

  it('faults Search Device and the token service separately', async () => {
    const simulator = await start();
    const accessToken = await token(simulator);
    simulator.faults.setSearch({ kind: 'http_429', times: 1 });
    simulator.faults.setToken({ kind: 'code_99500', times: 1 });
    expect((await searchDevices(simulator, accessToken, {})).status).toBe(429);
    expect((await searchDevices(simulator, accessToken, {})).json.code).toBe(0);
    expect((await listCertificates(simulator, accessToken, 'asset-000001')).json.code).toBe(0);
    expect((await requestToken(simulator, tokenBody())).json).toMatchObject({ status: 99500, data: null });
    expect((await requestToken(simulator, tokenBody())).json.status).toBe(0);
  });

  it('slow delays the real answer', async () => {
    const simulator = await start();
    const accessToken = await token(simulator);
    simulator.faults.set('asset-000001', { kind: 'slow', delayMs: 300 });
    const started = performance.now();
    const answer = await listCertificates(simulator, accessToken, 'asset-000001');
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(answer.json.code).toBe(0);
  });

  it('hang never answers; the client gives up and the request leaves the in-flight count', async () => {
    const simulator = await start();
    const accessToken = await token(simulator);
    simulator.faults.set('asset-000001', { kind: 'hang' });
    await expect(listCertificates(simulator, accessToken, 'asset-000001', AbortSignal.timeout(300))).rejects.toThrow(
      /timeout|aborted/i,
    );
    await waitFor(() => simulator.stats.inFlight === 0, { what: 'the hanging request to end' });
    expect(simulator.stats.maxConcurrent).toBe(1);
  });

  it('close() ends hanging requests', async () => {
    const simulator = await start();
    const accessToken = await token(simulator);
    simulator.faults.set('*', { kind: 'hang' });
    const hanging = listCertificates(simulator, accessToken, 'asset-000001');
    await waitFor(() => simulator.stats.inFlight === 1, { what: 'the request to arrive' });
    await simulator.close();
    await expect(hanging).rejects.toThrow();
  });
});

describe('latency and concurrency', () => {
  it('delays every API answer by latencyMs', async () => {
    const simulator = await start({ latencyMs: 200 });
    const accessToken = await token(simulator);
    const started = performance.now();
    expect((await listCertificates(simulator, accessToken, 'asset-000001')).json.code).toBe(0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('counts the peak of concurrent API calls', async () => {
    const simulator = await start({ latencyMs: 100 });
    const accessToken = await token(simulator);
    const assetIds = [1, 2, 3, 4, 5].map((i) => `asset-00000${i}`);
    const answers = await Promise.all(assetIds.map((assetId) => listCertificates(simulator, accessToken, assetId)));
    expect(answers.every((a) => a.json.code === 0)).toBe(true);
    expect(simulator.stats.maxConcurrent).toBe(5);
    expect(simulator.stats.inFlight).toBe(0);
  });

  it('serves a large fleet quickly', async () => {
    const simulator = await start({ devices: 100_000 });
    const accessToken = await token(simulator);
    const started = performance.now();
    const batch = Array.from({ length: 400 }, (_, i) => `asset-${String(1 + i * 250).padStart(6, '0')}`);
    for (let i = 0; i < batch.length; i += 20) {
      const answers = await Promise.all(batch.slice(i, i + 20).map((assetId) => listCertificates(simulator, accessToken, assetId)));
      expect(answers.every((a) => a.json.code === 0)).toBe(true);
    }
    // Loose bound (the machine is shared): 400 calls at 1000/s would take 0.4 s.
    expect(performance.now() - started).toBeLessThan(4_000);
  });
});

describe('simulate command', () => {
  it('prints its URL and appKey (never the secret), serves, and exits 0 when stopped', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let output = '';
    stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let stop = (): void => {};
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const args = ['--port', '0', '--devices', '20', '--app-key', 'cmd-key', '--app-secret', 'cmd-secret-value'];
    const exit = runSimulate({ args, stdout, stderr, env: {} }, stopped);

    const url = await waitFor(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1], { what: 'the URL line' });
    const timestamp = freshTimestamp();
    const response = await fetch(`${url}/apim-token-service/v2.0/token/get`, {
      method: 'POST',
      body: JSON.stringify({ appKey: 'cmd-key', timestamp, encryption: tokenEncryption('cmd-key', timestamp, 'cmd-secret-value') }),
    });
    expect(((await response.json()) as { status: number }).status).toBe(0);

    stop();
    expect(await exit).toBe(0);
    expect(output).toContain('cmd-key');
    expect(output).not.toContain('cmd-secret-value');
    const logLines = output.split('\n').filter((line) => line.startsWith('{'));
    expect(logLines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toContain('simulator listening');
    await expect(fetch(url)).rejects.toThrow();
  });

  it('refuses a bad flag with exit code 2 and a message on stderr', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let errors = '';
    stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    expect(await runSimulate({ args: ['--devices', 'many'], stdout, stderr, env: {} }, new Promise(() => {}))).toBe(2);
    expect(errors).toContain('--devices must be an integer');
  });
});
