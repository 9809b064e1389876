import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/log.js';
import { Churn } from './churn.js';
import { Faults } from './faults.js';
import { Fleet } from './fleet.js';
import { MAX_GENERATED_CERTIFICATES } from './generate.js';
import { createSimulatorServer, emptyStats, type SimulatorStats } from './server.js';
import { TokenService } from './tokens.js';

export { CHURN_EXPIRING_AFTER_MS, Churn, type ChurnAction, type ChurnChange } from './churn.js';
export { ALL_DEVICES, DEFAULT_SLOW_DELAY_MS, Faults, type Fault, type FaultKind } from './faults.js';
export { Fleet, type SearchResult } from './fleet.js';
export {
  MAX_GENERATED_CERTIFICATES,
  PRODUCT_KEYS,
  formatAssetId,
  formatDeviceKey,
  type CertificateSpec,
  type DeviceStatus,
  type IssueAuthority,
  type RawCertificate,
  type SimDevice,
  type StartDateField,
} from './generate.js';
export { ExpressionError, parseExpression, type Condition, type SearchField } from './expression.js';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './handlers.js';
export type { SimulatorStats } from './server.js';

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Generated devices; default 100. */
  devices?: number;
  /** Added before every answer; default 0. */
  latencyMs?: number;
  /** Fewest certificates a generated device has; default 0 (the mix includes devices without any). */
  minCertificates?: number;
  /** Real X.509 PEM certificates in `cert`, with a mix that shows every audit finding; default false. */
  pem?: boolean;
  /** The same seed gives the same fleet; default 1. */
  seed?: number;
  orgId?: string;
  appKey?: string;
  appSecret?: string;
  /** Default 7200. */
  tokenTtlSeconds?: number;
  /** Every this many ms a certificate is revoked, renewed or made to expire soon, in turn; 0 (default) = never. */
  churnIntervalMs?: number;
  /** Token expiry and mutation times; certificate dates are relative to its time at start. */
  clock?: Clock;
  log?: Logger;
}

export interface Simulator {
  /** http://HOST:PORT */
  readonly url: string;
  readonly port: number;
  readonly fleet: Fleet;
  readonly faults: Faults;
  /** Live counters (tests may reset them between phases). */
  readonly stats: SimulatorStats;
  /** Every issued token becomes invalid: the next API call with one gets the gateway's 401. */
  expireTokens(): void;
  /** Stops listening and ends every connection, hanging requests included. */
  close(): Promise<void>;
}

export const SIMULATOR_DEFAULTS: Required<
  Pick<SimulatorOptions, 'host' | 'devices' | 'latencyMs' | 'minCertificates' | 'seed' | 'orgId' | 'appKey' | 'appSecret'>
> & { port: number } = Object.freeze({
  host: '127.0.0.1',
  port: 0,
  devices: 100,
  latencyMs: 0,
  minCertificates: 0,
  seed: 1,
  orgId: 'demo-org',
  appKey: 'demo-app-key',
  appSecret: 'demo-app-secret',
});

export const DEFAULT_TOKEN_TTL_SECONDS = 7200;

/** Starts the EnOS API simulator; resolves once it listens. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const host = options.host ?? SIMULATOR_DEFAULTS.host;
  const port = checked('port', options.port ?? SIMULATOR_DEFAULTS.port, (n) => Number.isInteger(n) && n >= 0 && n <= 65535);
  const devices = checked('devices', options.devices ?? SIMULATOR_DEFAULTS.devices, (n) => Number.isSafeInteger(n) && n >= 0);
  const latencyMs = checked('latencyMs', options.latencyMs ?? SIMULATOR_DEFAULTS.latencyMs, (n) => Number.isFinite(n) && n >= 0);
  const minCertificates = checked(
    'minCertificates',
    options.minCertificates ?? SIMULATOR_DEFAULTS.minCertificates,
    (n) => Number.isInteger(n) && n >= 0 && n <= MAX_GENERATED_CERTIFICATES,
  );
  const seed = checked('seed', options.seed ?? SIMULATOR_DEFAULTS.seed, Number.isSafeInteger);
  const ttlSeconds = checked('tokenTtlSeconds', options.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS, (n) => n > 0);
  const orgId = options.orgId ?? SIMULATOR_DEFAULTS.orgId;
  const appKey = options.appKey ?? SIMULATOR_DEFAULTS.appKey;
  const appSecret = options.appSecret ?? SIMULATOR_DEFAULTS.appSecret;
  const clock = options.clock ?? systemClock;
  const log = (options.log ?? silentLogger).child({ component: 'simulator' });
  const churnIntervalMs = checked('churnIntervalMs', options.churnIntervalMs ?? 0, (n) => Number.isFinite(n) && n >= 0);

  const fleet = new Fleet({ seed, orgId, devices, minCertificates, startTime: clock.now(), clock, pem: options.pem === true });
  const faults = new Faults();
  const tokens = new TokenService({ appKey, appSecret, ttlSeconds, clock });
  const stats = emptyStats();
  const pending = new Set<AbortController>();
  const server = createSimulatorServer({ fleet, faults, tokens, appSecret, latencyMs, stats, log, pending });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  log.info({ url, orgId, appKey, devices, latencyMs, seed }, 'simulator listening');
  const churnTimer = churnIntervalMs > 0 ? startChurn(new Churn(fleet, { clock, log }), churnIntervalMs) : undefined;

  let closing: Promise<void> | undefined;
  return {
    url,
    port: actualPort,
    fleet,
    faults,
    stats,
    expireTokens: () => tokens.expireAll(),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        clearInterval(churnTimer);
        for (const controller of pending) controller.abort();
        server.close(() => resolve());
        server.closeAllConnections();
        log.info('simulator stopped');
      });
      return closing;
    },
  };
}

/** Steps the churn on a timer that does not keep the process alive by itself. */
function startChurn(churn: Churn, intervalMs: number): NodeJS.Timeout {
  const timer = setInterval(() => churn.step(), intervalMs);
  timer.unref();
  return timer;
}

function checked(name: string, value: number, isValid: (value: number) => boolean): number {
  if (!isValid(value)) throw new RangeError(`simulator option ${name} is out of range: ${value}`);
  return value;
}
