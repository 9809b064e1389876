import { randomBytes } from 'node:crypto';
import { parseConfig, type Config } from '../../src/config/load.js';
import type { DeviceRef } from '../../src/domain/types.js';
import type { Simulator } from '../../src/simulator/index.js';

/** A config for a monitor that scans `simulator` and keeps its state under a fresh key prefix. */
export function monitorConfig(simulator: Simulator, extra: { redisUrl?: string; yaml?: string } = {}): Config {
  const store = extra.redisUrl
    ? `store: { redisUrl: "${extra.redisUrl}", keyPrefix: "test-${randomBytes(4).toString('hex')}:", commandTimeoutMs: 500, leaderLeaseSeconds: 2 }`
    : '';
  return parseConfig(
    `
enos:
  baseUrl: ${simulator.url}
  appKey: demo-app-key
  appSecret: demo-app-secret
  concurrency: 8
  maxRequestsPerSecond: 0
  maxAttempts: 2
  retryBaseDelayMs: 1
  retryMaxDelayMs: 5
  requestTimeoutMs: 2000
inventory:
  discover: [{ orgId: demo-org }]
${store}
${extra.yaml ?? ''}
`,
    'test-config.yaml',
    {},
  );
}

type RawCert = Record<string, unknown>;

/** Finds simulator devices by what their certificates look like, each device at most once. */
export function devicePicker(simulator: Simulator, now: number) {
  const used = new Set<number>();
  return (predicate: (certs: readonly RawCert[], now: number) => RawCert | true | undefined): { ref: DeviceRef; cert?: RawCert } => {
    for (let i = 1; i <= simulator.fleet.size; i++) {
      if (used.has(i)) continue;
      const device = simulator.fleet.device(i);
      if (device === undefined) continue;
      const ref = { orgId: device.orgId, assetId: device.assetId, productKey: device.productKey, deviceKey: device.deviceKey };
      const found = predicate(simulator.fleet.certificates(ref) ?? [], now);
      if (found === undefined) continue;
      used.add(i);
      return found === true ? { ref } : { ref, cert: found };
    }
    throw new Error('no simulator device matches');
  };
}

const DAY = 86_400_000;

/** A valid certificate far from expiry. */
export const healthy = (certs: readonly RawCert[], now: number) =>
  certs.find((c) => c.certStatus === 0 && (c.expireDate as number) > now + 60 * DAY);

/** The only certificate of a device, valid and within warningDays. */
export const needsRenewal = (certs: readonly RawCert[], now: number) => {
  const [only] = certs;
  const expireDate = only?.expireDate as number;
  return certs.length === 1 && only!.certStatus === 0 && expireDate > now && expireDate < now + 25 * DAY ? only : undefined;
};

export const withoutCertificates = (certs: readonly RawCert[]) => (certs.length === 0 ? true : undefined);
