import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { requestSignature } from '../enos/signature.js';
import type { Logger } from '../util/log.js';
import { DEFAULT_SLOW_DELAY_MS, type Fault, type Faults } from './faults.js';
import type { Fleet } from './fleet.js';
import { deviceRefFromQuery, listCertificates, searchDevices } from './handlers.js';
import { faultAnswer, gatewayError, json, NO_ROUTE, UNAUTHORIZED, type Answer, type Endpoint } from './responses.js';
import type { TokenService } from './tokens.js';

/** Live counters, for tests and benchmarks. */
export interface SimulatorStats {
  tokenRequests: number;
  /** List Certificate requests received (rejected and faulted ones included). */
  listRequests: number;
  /** Search Device requests received (rejected and faulted ones included). */
  searchRequests: number;
  /** API calls refused with 401: unknown or expired token, wrong or missing signature. */
  rejectedRequests: number;
  /** Peak of `inFlight`. */
  maxConcurrent: number;
  /** API calls (List Certificate, Search Device) received and not yet answered. */
  inFlight: number;
}

export function emptyStats(): SimulatorStats {
  return { tokenRequests: 0, listRequests: 0, searchRequests: 0, rejectedRequests: 0, maxConcurrent: 0, inFlight: 0 };
}

export interface ServerContext {
  readonly fleet: Fleet;
  readonly faults: Faults;
  readonly tokens: TokenService;
  readonly appSecret: string;
  readonly latencyMs: number;
  readonly stats: SimulatorStats;
  readonly log: Logger;
  /** One controller per request being handled; aborting them ends waits (latency, slow, hang). */
  readonly pending: Set<AbortController>;
}

const ROUTES = new Map<string, Endpoint>([
  ['POST /apim-token-service/v2.0/token/get', 'token'],
  ['GET /connect-service/v2.0/certificates', 'list'],
  ['POST /connect-service/v2.1/devices', 'search'],
]);

const COUNTERS: Record<Endpoint, 'tokenRequests' | 'listRequests' | 'searchRequests'> = {
  token: 'tokenRequests',
  list: 'listRequests',
  search: 'searchRequests',
};

export function createSimulatorServer(context: ServerContext): Server {
  return createServer((request, response) => {
    void handle(context, request, response);
  });
}

async function handle(context: ServerContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://simulator');
  const endpoint = ROUTES.get(`${request.method ?? ''} ${url.pathname}`);
  if (!endpoint) {
    send(response, NO_ROUTE);
    return;
  }
  const { stats, pending } = context;
  stats[COUNTERS[endpoint]] += 1;
  if (endpoint !== 'token') trackInFlight(stats, response);
  const controller = new AbortController();
  pending.add(controller);
  // Still pending at close: the client went away; end the wait (aborting costs, so only then).
  response.once('close', () => {
    if (pending.delete(controller)) controller.abort();
  });
  try {
    const body = await readBody(request);
    if (context.latencyMs > 0) await sleep(context.latencyMs, undefined, { signal: controller.signal });
    const answer =
      endpoint === 'token'
        ? await answerToken(context, body, controller.signal)
        : await answerApi(context, endpoint, request.headers, url.searchParams, body, controller.signal);
    send(response, answer);
    context.log.debug({ endpoint, status: answer.status }, 'request answered');
  } catch (error) {
    // Aborted: the simulator is closing or the client went away; nobody is waiting for an answer.
    if (controller.signal.aborted) {
      response.destroy();
      return;
    }
    context.log.error({ endpoint, err: error }, 'simulator request failed');
    send(response, gatewayError(500, 'An unexpected error occurred'));
  } finally {
    pending.delete(controller);
  }
}

function trackInFlight(stats: SimulatorStats, response: ServerResponse): void {
  stats.inFlight += 1;
  stats.maxConcurrent = Math.max(stats.maxConcurrent, stats.inFlight);
  response.once('close', () => {
    stats.inFlight -= 1;
  });
}

async function answerToken(context: ServerContext, body: string, signal: AbortSignal): Promise<Answer> {
  const fault = context.faults.takeToken();
  const faulted = fault && (await applyFault(fault, 'token', signal));
  if (faulted) return faulted;
  return json(200, context.tokens.get(parseJson(body)));
}

async function answerApi(
  context: ServerContext,
  endpoint: Exclude<Endpoint, 'token'>,
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
  body: string,
  signal: AbortSignal,
): Promise<Answer> {
  if (!isAuthorized(context, headers, query, body)) {
    context.stats.rejectedRequests += 1;
    return UNAUTHORIZED;
  }
  const fault =
    endpoint === 'list' ? context.faults.takeForDevice(deviceIds(context.fleet, query)) : context.faults.takeSearch();
  const faulted = fault && (await applyFault(fault, endpoint, signal));
  if (faulted) return faulted;
  return endpoint === 'list'
    ? listCertificates(context.fleet, query)
    : searchDevices(context.fleet, query, body);
}

/** Token known and unexpired, and the signature over query, body and timestamp right. */
function isAuthorized(context: ServerContext, headers: IncomingHttpHeaders, query: URLSearchParams, body: string): boolean {
  const token = headers['apim-accesstoken'];
  const timestamp = headers['apim-timestamp'];
  const signature = headers['apim-signature'];
  if (typeof token !== 'string' || typeof timestamp !== 'string' || typeof signature !== 'string') return false;
  if (!context.tokens.isValid(token)) return false;
  // The signature hashes the timestamp as sent; only a canonical integer reads back the same.
  const millis = Number(timestamp);
  if (!Number.isSafeInteger(millis) || String(millis) !== timestamp) return false;
  return signature === requestSignature(token, query, body, millis, context.appSecret);
}

/** Every id a device fault may be set on: those in the query and those of the device they name. */
function deviceIds(fleet: Fleet, query: URLSearchParams): string[] {
  const ids = [query.get('assetId'), query.get('deviceKey')].filter((id): id is string => Boolean(id));
  const ref = deviceRefFromQuery(query);
  const device = typeof ref === 'string' ? undefined : fleet.find(ref);
  return device ? [...ids, device.assetId, device.deviceKey] : ids;
}

/** The fault's answer, or undefined when it only delays the real one. */
async function applyFault(fault: Fault, endpoint: Endpoint, signal: AbortSignal): Promise<Answer | undefined> {
  switch (fault.kind) {
    case 'hang':
      return untilAborted(signal);
    case 'slow':
      await sleep(fault.delayMs ?? DEFAULT_SLOW_DELAY_MS, undefined, { signal });
      return undefined;
    default:
      return faultAnswer(fault.kind, endpoint);
  }
}

function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function send(response: ServerResponse, answer: Answer): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(answer.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(answer.body),
  });
  response.end(answer.body);
}
