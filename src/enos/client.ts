import pLimit from 'p-limit';
import type { Config } from '../config/load.js';
import type { DeviceRef } from '../domain/types.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { EnosApi } from './api.js';
import { explainFailure } from './explain.js';
import { EnosApiError, type Operation, type Outcome, type RequestObserver } from './outcome.js';
import { parseCertificateList, parseDevicePage, parseTokenGrant } from './parse.js';
import { RateLimiter } from './rate-limit.js';
import { backoffDelayMs, isRetryable } from './retry.js';
import { requestSignature } from './signature.js';
import { sleep as realSleep, type Sleep } from './sleep.js';
import { TokenProvider, tokenRequest } from './token.js';
import { createHttpTransport, type HttpRequest, type HttpResponse, type Transport } from './transport.js';

export interface EnosClientDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly observer?: RequestObserver;
  readonly sleep?: Sleep;
  readonly random?: () => number;
  /** Defaults to HTTP over undici; tests pass a fake. */
  readonly transport?: Transport;
}

const CERTIFICATES_PATH = '/connect-service/v2.0/certificates';
const DEVICES_PATH = '/connect-service/v2.1/devices';
/** The gateway's maximum page size. */
export const SEARCH_PAGE_SIZE = 200;
/** Never `deviceSecret`: a secret that is not fetched cannot leak. */
const SEARCH_PROJECTION = ['assetId', 'productKey', 'deviceKey', 'deviceName', 'status'] as const;

/** A token the gateway no longer accepts: fetch a fresh one and try once more. */
const AUTH_FAILURES: ReadonlySet<Outcome> = new Set(['http_401', 'code_1203']);

type Query = Readonly<Record<string, string>>;

/** The EnOS API over HTTP: signed, rate-limited, retried, observed. */
export function createEnosClient(enos: Config['enos'], deps: EnosClientDeps): EnosApi {
  const { clock, observer } = deps;
  const log = deps.log.child({ component: 'enos' });
  const sleep = deps.sleep ?? realSleep;
  const random = deps.random ?? Math.random;
  const transport = deps.transport ?? createHttpTransport({ requestTimeoutMs: enos.requestTimeoutMs, ca: enos.ca });
  const limiter = new RateLimiter(enos.maxRequestsPerSecond, clock, sleep);
  const inFlight = pLimit(enos.concurrency);
  const baseUrl = enos.baseUrl.replace(/\/+$/, '');

  /** One HTTP attempt: observed and logged, unless the caller aborted it. */
  async function attempt<T>(
    operation: Operation,
    build: (timestamp: number) => HttpRequest,
    parse: (response: HttpResponse) => T,
    signal: AbortSignal | undefined,
    attemptNo: number,
  ): Promise<T> {
    return inFlight(async () => {
      await limiter.acquire(signal);
      const startedAt = clock.now();
      let outcome: Outcome | undefined;
      const request = build(startedAt);
      try {
        const result = parse(await transport.send(request, signal));
        outcome = 'success';
        return result;
      } catch (error) {
        if (!(error instanceof EnosApiError)) throw error;
        outcome = error.outcome;
        throw explainFailure(error, request.url);
      } finally {
        if (outcome !== undefined) {
          const durationMs = clock.now() - startedAt;
          observer?.(operation, outcome, durationMs / 1000);
          log.debug({ operation, outcome, attempt: attemptNo, durationMs }, 'api request');
        }
      }
    });
  }

  async function withRetries<T>(
    operation: Operation,
    build: (timestamp: number) => HttpRequest,
    parse: (response: HttpResponse) => T,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    for (let attemptNo = 1; ; attemptNo += 1) {
      try {
        return await attempt(operation, build, parse, signal, attemptNo);
      } catch (error) {
        const final = !(error instanceof EnosApiError) || !isRetryable(error.outcome) || attemptNo >= enos.maxAttempts;
        if (final) throw error;
        await sleep(backoffDelayMs(attemptNo, enos.retryBaseDelayMs, enos.retryMaxDelayMs, random), signal);
      }
    }
  }

  const tokens = new TokenProvider(
    (signal) =>
      withRetries('token', (timestamp) => tokenRequest(baseUrl, enos.appKey, enos.appSecret, timestamp), parseTokenGrant, signal),
    clock,
  );

  function signedRequest(
    operation: Operation,
    method: HttpRequest['method'],
    path: string,
    query: Query,
    body: string | undefined,
    token: string,
    timestamp: number,
  ): HttpRequest {
    // One URL parse, no URLSearchParams: this runs for every request of a scan.
    const params = Object.entries(query);
    const search = params.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join('&');
    const url = new URL(`${baseUrl}${path}?${search}`);
    const signature = requestSignature(token, params, body ?? '', timestamp, enos.appSecret.reveal());
    return {
      operation,
      method,
      url,
      headers: {
        'apim-accesstoken': token,
        'apim-timestamp': String(timestamp),
        'apim-signature': signature,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body } : {}),
    };
  }

  /** An API call with the current token; a refused token is replaced once. */
  async function callApi<T>(
    operation: Operation,
    method: HttpRequest['method'],
    path: string,
    query: Query,
    body: string | undefined,
    parse: (response: HttpResponse) => T,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const run = (token: string): Promise<T> =>
      withRetries(
        operation,
        (timestamp) => signedRequest(operation, method, path, query, body, token, timestamp),
        parse,
        signal,
      );
    const token = await tokens.get(signal);
    try {
      return await run(token);
    } catch (error) {
      if (!(error instanceof EnosApiError) || !AUTH_FAILURES.has(error.outcome)) throw error;
      tokens.invalidate(token);
      return run(await tokens.get(signal));
    }
  }

  return {
    listCertificates: async (device, signal) =>
      callApi(
        'list_certificates',
        'GET',
        CERTIFICATES_PATH,
        { action: 'list', orgId: device.orgId, ...deviceQuery(device) },
        undefined,
        parseCertificateList,
        signal,
      ),
    searchDevices: async (orgId, expression, pageNo, signal) =>
      callApi(
        'search_devices',
        'POST',
        DEVICES_PATH,
        { action: 'search', orgId },
        JSON.stringify({
          ...(expression !== undefined ? { expression } : {}),
          pagination: { pageNo, pageSize: SEARCH_PAGE_SIZE },
          projection: SEARCH_PROJECTION,
        }),
        (response) => parseDevicePage(orgId, response),
        signal,
      ),
    close: () => transport.close(),
  };
}

/** assetId when known (it names the device alone), else productKey + deviceKey. */
function deviceQuery(device: DeviceRef): Query {
  if (device.assetId !== undefined) return { assetId: device.assetId };
  if (device.productKey !== undefined && device.deviceKey !== undefined) {
    return { productKey: device.productKey, deviceKey: device.deviceKey };
  }
  throw new TypeError('a device needs assetId, or productKey and deviceKey');
}
