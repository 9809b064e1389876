import { assessCertificates } from './certificate.js';
import type { Certificate, ChangeEvent, ChangeType, DeviceRef, Thresholds } from './types.js';

const RENEWABLE_STATES = new Set(['warning', 'critical', 'expired']);

/**
 * Change events between a device's stored certificates and a fresh, validated answer.
 * `previous` undefined means the device is seen for the first time: the answer is the baseline
 * and nothing is reported.
 */
export function diffCertificates(
  device: DeviceRef,
  previous: readonly Certificate[] | undefined,
  current: readonly Certificate[],
  now: number,
  thresholds: Thresholds,
): ChangeEvent[] {
  if (previous === undefined) return [];
  const at = new Date(now).toISOString();
  const event = (type: ChangeType, certSN: string, from: string | null, to: string | null): ChangeEvent => ({
    type,
    orgId: device.orgId,
    assetId: device.assetId ?? '',
    productKey: device.productKey ?? '',
    deviceKey: device.deviceKey ?? '',
    certSN,
    from,
    to,
    at,
  });

  const before = new Map(previous.map((cert) => [cert.certSN, cert]));
  const after = new Set(current.map((cert) => cert.certSN));
  const events: ChangeEvent[] = [];
  const added: Certificate[] = [];

  for (const cert of current) {
    const old = before.get(cert.certSN);
    if (old === undefined) {
      added.push(cert);
      events.push(event('added', cert.certSN, null, cert.status));
    } else if (old.status === 'valid' && cert.status === 'revoked') {
      events.push({
        ...event('revoked', cert.certSN, 'valid', 'revoked'),
        revoker: cert.revoker,
        revokerReason: cert.revokerReason,
      });
    } else if (old.status === 'valid' && cert.status === 'expired') {
      events.push(event('expired', cert.certSN, 'valid', 'expired'));
    }
  }
  for (const old of previous) {
    if (!after.has(old.certSN)) events.push(event('removed', old.certSN, old.status, null));
  }
  events.push(...renewals(previous, added, now, thresholds, event));
  return events;
}

/** An old certificate that needed renewal, now superseded by a newly added healthy one. */
function renewals(
  previous: readonly Certificate[],
  added: readonly Certificate[],
  now: number,
  thresholds: Thresholds,
  event: (type: ChangeType, certSN: string, from: string | null, to: string | null) => ChangeEvent,
): ChangeEvent[] {
  const replacement = latestHealthy(added, now, thresholds);
  if (replacement === undefined) return [];
  return assessCertificates(previous, now, thresholds)
    .filter(({ cert, state, superseded }) =>
      RENEWABLE_STATES.has(state) && !superseded && replacement.notAfter > cert.notAfter)
    .map(({ cert, state }) => event('renewed', cert.certSN, state, replacement.certSN));
}

function latestHealthy(certs: readonly Certificate[], now: number, thresholds: Thresholds): Certificate | undefined {
  let latest: Certificate | undefined;
  for (const { cert, state } of assessCertificates(certs, now, thresholds)) {
    if (state === 'ok' && (latest === undefined || cert.notAfter > latest.notAfter)) latest = cert;
  }
  return latest;
}
