import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/load.js';
import { createEnosClient } from '../../../src/enos/client.js';
import { apiFailure } from '../../../src/enos/failure.js';
import { EnosApiError, type Operation, type Outcome } from '../../../src/enos/outcome.js';
import { requestSignature } from '../../../src/enos/signature.js';
import type { Sleep } from '../../../src/enos/sleep.js';
import { TOKEN_PATH } from '../../../src/enos/token.js';
import type { HttpRequest, HttpResponse, Transport } from '../../../src/enos/transport.js';
import { manualClock } from '../../../src/util/clock.js';
import { createLogger, silentLogger } from '../../../src/util/log.js';
import { Secret } from '../../../src/util/secret.js';
import { failureOf } from '../../support/errors.js';

const START = 1_700_000_000_000;
const LATENCY_MS = 40;
const APP_SECRET = 'app-secret-value';
const DEVICE = { orgId: 'o1', assetId: 'asset 1' };

const enos: Config['enos'] = {
  baseUrl: 'https://gw.example/',
  appKey: 'app-key',
  appSecret: new Secret(APP_SECRET),
  requestTimeoutMs: 1_000,
  concurrency: 4,
  maxRequestsPerSecond: 0,
  maxAttempts: 3,
  retryBaseDelayMs: 100,
  retryMaxDelayMs: 1_000,
};

type Answer = HttpResponse | EnosApiError;

const ok = (json: unknown): HttpResponse => ({ status: 200, json });
const certificates = ok({ code: 0, msg: 'OK', data: [{ certSN: '1', certStatus: 0, expireDate: START + 1e9 }] });

/**
 * A gateway in memory: answers from queues (token service and API separately), by default a
 * fresh token `token-N` and a one-certificate list. Each answer takes LATENCY_MS of clock time.
 */
function setUp(config: Partial<Config['enos']> = {}) {
  const clock = manualClock(START);
  const sent: HttpRequest[] = [];
  const tokenAnswers: Answer[] = [];
  const apiAnswers: Answer[] = [];
  const observed: [Operation, Outcome, number][] = [];
  const sleeps: number[] = [];
  let tokensIssued = 0;
  const transport: Transport = {
    async send(request, signal) {
      signal?.throwIfAborted();
      sent.push(request);
      clock.advance(LATENCY_MS);
      const isToken = request.url.pathname === TOKEN_PATH;
      const answer = (isToken ? tokenAnswers : apiAnswers).shift();
      if (answer instanceof EnosApiError) throw answer;
      if (answer) return answer;
      tokensIssued += isToken ? 1 : 0;
      return isToken ? ok({ status: 0, data: { accessToken: `token-${tokensIssued}`, expire: 7200 } }) : certificates;
    },
    close: async () => undefined,
  };
  const sleep: Sleep = async (ms, signal) => {
    signal?.throwIfAborted();
    sleeps.push(ms);
    clock.advance(ms);
  };
  const client = createEnosClient(
    { ...enos, ...config },
    {
      clock,
      log: silentLogger,
      transport,
      sleep,
      random: () => 0.5,
      observer: (operation, outcome, seconds) => observed.push([operation, outcome, seconds]),
    },
  );
  const apiCalls = () => sent.filter((r) => r.url.pathname !== TOKEN_PATH);
  const tokenCalls = () => sent.filter((r) => r.url.pathname === TOKEN_PATH);
  return { client, clock, sent, tokenAnswers, apiAnswers, observed, sleeps, apiCalls, tokenCalls };
}

const http = (status: number, json?: unknown): HttpResponse => ({ status, json });
const code = (value: number, msg = 'failed'): HttpResponse => ok({ code: value, msg, data: null });

describe('EnOS client requests', () => {
  it('lists certificates with a signed GET by assetId', async () => {
    const { client, sent } = setUp();
    expect(await client.listCertificates(DEVICE)).toHaveLength(1);
    const [token, list] = sent;
    expect(JSON.parse(token!.body!)).toMatchObject({ appKey: 'app-key', timestamp: START });
    expect(list!.method).toBe('GET');
    expect(list!.url.origin + list!.url.pathname).toBe('https://gw.example/connect-service/v2.0/certificates');
    expect(Object.fromEntries(list!.url.searchParams)).toEqual({ action: 'list', orgId: 'o1', assetId: 'asset 1' });
    expect(list!.body).toBeUndefined();
    const timestamp = START + LATENCY_MS;
    expect(list!.headers).toEqual({
      'apim-accesstoken': 'token-1',
      'apim-timestamp': String(timestamp),
      'apim-signature': requestSignature('token-1', list!.url.searchParams, '', timestamp, APP_SECRET),
    });
  });

  it('lists certificates by productKey and deviceKey', async () => {
    const { client, apiCalls } = setUp();
    await client.listCertificates({ orgId: 'o1', productKey: 'p1', deviceKey: 'd1' });
    expect(Object.fromEntries(apiCalls()[0]!.url.searchParams)).toEqual({
      action: 'list',
      orgId: 'o1',
      productKey: 'p1',
      deviceKey: 'd1',
    });
  });

  it.each([
    { expression: "productKey = 'p1'", body: { expression: "productKey = 'p1'" } },
    { expression: undefined, body: {} },
  ])('searches devices with a signed POST (expression $expression)', async ({ expression, body }) => {
    const { client, apiCalls, apiAnswers } = setUp();
    apiAnswers.push(
      ok({ code: 0, data: [{ assetId: 'a1' }], pagination: { pageNo: 2, pageSize: 200, totalSize: 201 } }),
    );
    const page = await client.searchDevices('o1', expression, 2);
    expect(page).toEqual({ devices: [{ orgId: 'o1', assetId: 'a1' }], pageNo: 2, pageSize: 200, totalSize: 201 });
    const request = apiCalls()[0]!;
    expect(request.method).toBe('POST');
    expect(request.url.pathname).toBe('/connect-service/v2.1/devices');
    expect(Object.fromEntries(request.url.searchParams)).toEqual({ action: 'search', orgId: 'o1' });
    expect(JSON.parse(request.body!)).toEqual({
      ...body,
      pagination: { pageNo: 2, pageSize: 200 },
      projection: ['assetId', 'productKey', 'deviceKey', 'deviceName', 'status'],
    });
    const timestamp = Number(request.headers['apim-timestamp']);
    expect(request.headers['apim-signature']).toBe(
      requestSignature('token-1', request.url.searchParams, request.body!, timestamp, APP_SECRET),
    );
    expect(request.headers['content-type']).toBe('application/json');
  });

  it('fetches the token once for many calls', async () => {
    const { client, tokenCalls } = setUp();
    await Promise.all(Array.from({ length: 10 }, () => client.listCertificates(DEVICE)));
    await client.listCertificates(DEVICE);
    expect(tokenCalls()).toHaveLength(1);
  });
});

describe('EnOS client authentication', () => {
  it.each([
    { name: 'HTTP 401', refusal: http(401, { message: 'Invalid authentication credentials' }), outcome: 'http_401' },
    { name: 'code 1203', refusal: code(1203, 'token expired'), outcome: 'code_1203' },
  ])('on $name fetches a new token and tries once more', async ({ refusal, outcome }) => {
    const { client, apiAnswers, apiCalls, observed } = setUp();
    apiAnswers.push(refusal);
    expect(await client.listCertificates(DEVICE)).toHaveLength(1);
    expect(apiCalls().map((r) => r.headers['apim-accesstoken'])).toEqual(['token-1', 'token-2']);
    expect(observed.map(([op, out]) => `${op}:${out}`)).toEqual([
      'token:success',
      `list_certificates:${outcome}`,
      'token:success',
      'list_certificates:success',
    ]);
  });

  it('gives up on a second 401', async () => {
    const { client, apiAnswers, tokenCalls } = setUp();
    apiAnswers.push(http(401), http(401));
    const error = await failureOf(client.listCertificates(DEVICE));
    expect([error.operation, error.outcome]).toEqual(['list_certificates', 'http_401']);
    expect(tokenCalls()).toHaveLength(2);
  });

  it('fetches one new token for many concurrent 401s', async () => {
    const { client, apiAnswers, tokenCalls } = setUp();
    await client.listCertificates(DEVICE);
    apiAnswers.push(...Array.from({ length: 6 }, () => http(401)));
    await Promise.all(Array.from({ length: 6 }, () => client.listCertificates(DEVICE)));
    expect(tokenCalls()).toHaveLength(2);
  });

  it.each([1002, 1003, 1004, 1202])('does not retry token status %i (bad credentials)', async (status) => {
    const { client, tokenAnswers, tokenCalls, apiCalls } = setUp();
    tokenAnswers.push(ok({ status, msg: 'refused' }));
    const error = await failureOf(client.listCertificates(DEVICE));
    expect([error.operation, error.outcome]).toEqual(['token', `code_${status}`]);
    expect(error.message).toMatch(new RegExp(`^token failed: code_${status} \\(refused\\): .*check enos\\.app(Key|Secret)`));
    expect(tokenCalls()).toHaveLength(1);
    expect(apiCalls()).toHaveLength(0);
  });

  it('retries a transient token failure with a fresh timestamp', async () => {
    const { client, tokenAnswers, tokenCalls } = setUp();
    tokenAnswers.push(http(503), apiFailure('token', 'timeout'));
    expect(await client.listCertificates(DEVICE)).toHaveLength(1);
    const timestamps = tokenCalls().map((r) => (JSON.parse(r.body!) as { timestamp: number }).timestamp);
    expect(timestamps).toHaveLength(3);
    expect(new Set(timestamps).size).toBe(3);
  });
});

describe('EnOS client retries', () => {
  it.each<[string, Answer, Outcome]>([
    ['HTTP 429', http(429, { message: 'API rate limit exceeded' }), 'http_429'],
    ['HTTP 503', http(503), 'http_503'],
    ['code 99500', code(99500, 'Internal error'), 'code_99500'],
    ['timeout', apiFailure('list_certificates', 'timeout'), 'timeout'],
    ['network', apiFailure('list_certificates', 'network', 'ECONNRESET'), 'network'],
  ])('retries %s up to maxAttempts, then fails with it', async (_name, answer, outcome) => {
    const { client, apiAnswers, apiCalls, sleeps, observed } = setUp();
    apiAnswers.push(answer, answer, answer);
    const error = await failureOf(client.listCertificates(DEVICE));
    expect([error.operation, error.outcome]).toEqual(['list_certificates', outcome]);
    expect(apiCalls()).toHaveLength(3);
    // Full jitter with random() = 0.5: half of 100, then half of 200.
    expect(sleeps).toEqual([50, 100]);
    expect(observed.filter(([op]) => op === 'list_certificates').map(([, out]) => out)).toEqual([
      outcome,
      outcome,
      outcome,
    ]);
  });

  it('succeeds when a retry does', async () => {
    const { client, apiAnswers, apiCalls } = setUp();
    apiAnswers.push(http(503), code(99500));
    expect(await client.listCertificates(DEVICE)).toHaveLength(1);
    expect(apiCalls()).toHaveLength(3);
  });

  it.each([11404, 99400, 99403])('does not retry code %i', async (value) => {
    const { client, apiAnswers, apiCalls, sleeps } = setUp();
    apiAnswers.push(code(value));
    expect((await failureOf(client.listCertificates(DEVICE))).outcome).toBe(`code_${value}`);
    expect(apiCalls()).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('does not retry a malformed answer', async () => {
    const { client, apiAnswers, apiCalls } = setUp();
    apiAnswers.push(ok({ code: 0, data: 'nope' }));
    expect((await failureOf(client.listCertificates(DEVICE))).outcome).toBe('invalid_response');
    expect(apiCalls()).toHaveLength(1);
  });

  it('tells the outcome and the gateway message, and no credential', async () => {
    const { client, apiAnswers } = setUp({ maxAttempts: 1 });
    apiAnswers.push(code(99500, 'Internal error'));
    const error = await failureOf(client.listCertificates(DEVICE));
    expect(error.message).toBe('list_certificates failed: code_99500 (Internal error)');
    expect(JSON.stringify(error)).not.toMatch(/token-1|app-secret/);
  });
});

describe('EnOS client observation and pacing', () => {
  it('reports every HTTP attempt once, with its duration in seconds', async () => {
    const { client, apiAnswers, observed } = setUp();
    apiAnswers.push(http(429));
    await client.listCertificates(DEVICE);
    const seconds = LATENCY_MS / 1000;
    expect(observed).toEqual([
      ['token', 'success', seconds],
      ['list_certificates', 'http_429', seconds],
      ['list_certificates', 'success', seconds],
    ]);
  });

  it('paces every HTTP attempt, token included, through the rate limiter', async () => {
    const { client, sent } = setUp({ maxRequestsPerSecond: 5 });
    for (let i = 0; i < 3; i += 1) await client.listCertificates(DEVICE);
    const starts = sent.map((r) => (r.body ? JSON.parse(r.body).timestamp : Number(r.headers['apim-timestamp'])));
    expect(starts.map((t: number) => t - START)).toEqual([0, 200, 400, 600]);
  });

  it('stops at once when the caller aborts, without counting an attempt', async () => {
    const { client, observed } = setUp();
    const controller = new AbortController();
    const reason = new Error('shutdown');
    controller.abort(reason);
    await expect(client.listCertificates(DEVICE, controller.signal)).rejects.toBe(reason);
    expect(observed).toEqual([]);
  });

  it('logs each attempt at debug with fixed fields and no credential', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const clock = manualClock(START);
    const transport: Transport = {
      send: async (request) =>
        request.url.pathname === TOKEN_PATH ? ok({ status: 0, data: { accessToken: 'tok-XYZ', expire: 60 } }) : certificates,
      close: async () => undefined,
    };
    const client = createEnosClient(enos, { clock, log: createLogger('debug', sink), transport });
    await client.listCertificates(DEVICE);
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.map((r) => [r.msg, r.component, r.operation, r.outcome, r.attempt])).toEqual([
      ['api request', 'enos', 'token', 'success', 1],
      ['api request', 'enos', 'list_certificates', 'success', 1],
    ]);
    expect(lines.join('\n')).not.toMatch(/tok-XYZ|app-secret|apim-/);
  });
});
